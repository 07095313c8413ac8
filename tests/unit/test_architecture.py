"""The house rules of docs/architecture.md, checked on the source: layering, one stream reader, no cycles,
platform data that drives behaviour, module size.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from collector.platforms import Platform, load_platform

ROOT = Path(__file__).resolve().parents[2] / "collector"
MODULES = sorted(p for p in ROOT.rglob("*.py"))

#: package → packages it may import from (besides itself and the top-level helper modules)
LAYERS = {
    "expect": set(),
    "transports": {"expect"},
    "session": {"expect", "transports", "store", "platforms"},
    "platforms": set(),
    "playbook": {"platforms"},
    "store": set(),
    "parse": {"store", "platforms"},  # step files -> parsed/*.json, after the run (never on the collection path)
    "runner": {"session", "store", "transports", "platforms", "playbook", "expect", "parse"},
    "bundle": {"store", "parse"},
    "upload": {"bundle", "store", "transports", "ui"},  # sftp:// verifies host keys like every SSH connection
}
TOP_HELPERS = {"errors", "secrets", "credentials", "target", "paths", "units", "yaml_bounds", "jsonfmt",
               "derived_cache", "deferred_module", "__init__"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every collector module this file imports, at any depth of the file (lazy imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("collector")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("collector"):
                continue
            for alias in node.names:  # `from . import x` may name a module
                candidate = f"{mod}.{alias.name}"
                out.add(candidate if candidate in ALL else mod)
    return {m for m in out if m in ALL and m != me}


ALL = {module_name(p) for p in MODULES}
GRAPH = {module_name(p): imports_of(p) for p in MODULES}


def test_no_import_cycles_anywhere() -> None:
    """Tarjan's strongly connected components: any component of more than one module is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            # a package's __init__ re-exporting its own modules is not a cycle of behaviour
            if len(comp) > 1 and not all(c.count(".") <= 1 or GRAPH.get(c) is None for c in comp):
                cycles.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    inits = {module_name(p) for p in MODULES if p.name == "__init__.py"}
    real = [c for c in cycles if not set(c) & inits]
    assert real == [], f"import cycles: {real}"


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_layers_only_import_downwards(package: str) -> None:
    bad = []
    for mod, deps in GRAPH.items():
        parts = mod.split(".")
        if len(parts) < 2 or parts[1] != package:
            continue
        for dep in deps:
            dparts = dep.split(".")
            other = dparts[1] if len(dparts) > 1 else ""
            if other in (package, "") or other in TOP_HELPERS or other in LAYERS[package]:
                continue
            bad.append(f"{mod} -> {dep}")
    assert bad == []


def _calls(path: Path) -> list[ast.Attribute]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.func for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def test_only_the_session_reads_a_transport() -> None:
    """Outside session/ and transports/ nothing calls read() on a transport or a session's stream."""
    offenders = []
    for path in MODULES:
        rel = path.relative_to(ROOT).parts
        if rel[0] in ("session", "transports", "sim"):
            continue
        for func in _calls(path):
            owner = _name(func.value)
            via_session = isinstance(func.value, ast.Attribute) and _name(func.value.value) == "session"
            if func.attr in ("read", "_read") and (owner in ("transport", "_transport", "session") or via_session):
                offenders.append(f"{path.relative_to(ROOT)}:{func.lineno} {owner}.{func.attr}()")
    assert offenders == []


def test_no_private_session_attributes_outside_the_session() -> None:
    offenders = []
    for path in MODULES:
        if path.relative_to(ROOT).parts[0] == "session":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and _name(node.value) == "session"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} session.{node.attr}")
    assert offenders == []


def _model_fields(model: type) -> set[str]:
    out = set(getattr(model, "model_fields", {}))
    for f in getattr(model, "model_fields", {}).values():
        for sub in _submodels(f.annotation):
            out |= _model_fields(sub)
    return out


def _submodels(annotation: object) -> list[type]:
    args = getattr(annotation, "__args__", ()) or ()
    found = [a for a in (annotation, *args) if isinstance(a, type) and hasattr(a, "model_fields")]
    for a in args:
        found += _submodels(a)
    return found


def test_every_platform_field_is_read_by_the_code() -> None:
    """A newcomer who edits a platform YAML field must see behaviour change: each field is used somewhere."""
    used: set[str] = set()
    for path in MODULES:
        if path == ROOT / "platforms" / "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    platform_module = (ROOT / "platforms" / "__init__.py").read_text(encoding="utf-8")
    tree = ast.parse(platform_module)
    used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and _name(n.value) == "self"}
    unused = sorted(_model_fields(Platform) - used - {"name"})
    assert unused == [], f"platform fields nothing reads: {unused}"


def test_platforms_load() -> None:
    assert load_platform("cisco_ios").paging_response == " "
