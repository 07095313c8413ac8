"""No import cycle among the store, bundle and secrets modules (imports inside functions count too), and one
sha256-of-a-file helper for them all."""

from __future__ import annotations

import ast
from pathlib import Path

COLLECTOR = Path(__file__).resolve().parents[2] / "collector"


def module_name(path: Path) -> str:
    parts = path.relative_to(COLLECTOR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """collector modules `path` imports, anywhere in the file; `from . import x` resolved to x when it is one."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    out.add(f"{base}.{alias.name}")
                elif base in known:
                    out.add(base)
    return out - {me}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def test_no_import_cycle_in_store_bundle_and_secrets() -> None:
    files = [p for p in COLLECTOR.rglob("*.py")]
    known = {module_name(p) for p in files}
    scope = [p for p in files if module_name(p).startswith(("collector.bundle", "collector.store"))
             or module_name(p) == "collector.secrets"]
    graph = {module_name(p): {m for m in imports(p, known)
                              if m.startswith(("collector.bundle", "collector.store")) or m == "collector.secrets"}
             for p in scope}
    assert "collector.bundle.checksum" in graph["collector.bundle.encrypt"]
    assert "collector.bundle.archive" not in graph["collector.bundle.encrypt"]
    assert cycles({k: v - {k.rsplit(".", 1)[0]} for k, v in graph.items()}) == []


def test_one_file_hash_helper() -> None:
    """The sha256-of-a-file loop lives in store.hashing; archive (via encrypt) and verify use it."""
    defined = [p for p in COLLECTOR.rglob("*.py") if "def sha256_file" in p.read_text()
               or "def _archive_digest" in p.read_text()]
    assert defined == [COLLECTOR / "store" / "hashing.py"]
    for user in ("verify.py", "encrypt.py"):
        assert "from ..store.hashing import sha256_file" in (COLLECTOR / "bundle" / user).read_text()
