"""Ansible inventories: the YAML form (all: hosts / vars / children) and the INI form ([group], [group:vars],
[group:children], `host key=value`, ranges like `r[01:20]`), read into one group graph (ansible_graph).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from ..errors import InventoryError
from . import yamlfile
from .ansible_graph import ALL, UNGROUPED, Graph
from .hostvars import Vars
from .model import Inventory
from .refs import check_key, ref_key, secret_key

GROUP_KEYS = {"hosts", "vars", "children"}
_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::(\d+))?\]")
MAX_EXPANSION = 100_000


def looks_like_ansible_yaml(tree: Any) -> bool:
    """Top-level groups whose bodies use hosts/vars/children (nornir's hosts.yaml never does)."""
    if not isinstance(tree, CommentedMap) or not tree:
        return False
    bodies = [v for v in tree.values() if v is not None]
    return all(isinstance(b, CommentedMap) and set(b) <= GROUP_KEYS for b in bodies) and \
        any(isinstance(b, CommentedMap) and set(b) & GROUP_KEYS for b in bodies)


def _vars(node: Any, file: str) -> Vars:
    if node is None:
        return {}
    if not isinstance(node, CommentedMap):
        raise InventoryError(f"{file}: expected a mapping of variables")
    return {k: (yamlfile.plain(v), at) for k, v, at in yamlfile.items(node, file)}


def _yaml_group(graph: Graph, name: str, body: Any, where: str, file: str) -> None:
    group = graph.group(name, where)
    if body is None:
        return
    if not isinstance(body, CommentedMap) or not set(body) <= GROUP_KEYS:
        raise InventoryError(f"{where}: group {name!r} may only hold hosts, vars and children")
    hosts = body.get("hosts")
    if hosts is not None and not isinstance(hosts, CommentedMap):
        raise InventoryError(f"{yamlfile.where(body, 'hosts', file)}: hosts must be a mapping of host names")
    for pattern, hvars, at in yamlfile.items(hosts, file):
        for host in expand(pattern, at):
            graph.add_host(name, host, _vars(hvars, file), at)
    group.vars.update(_vars(body.get("vars"), file))
    children = body.get("children")
    if children is not None and not isinstance(children, CommentedMap):
        raise InventoryError(f"{yamlfile.where(body, 'children', file)}: children must be a mapping of groups")
    for child, cbody, at in yamlfile.items(children, file):
        if child not in group.children:
            group.children.append(child)
        _yaml_group(graph, child, cbody, at, file)


def load_ansible_yaml(path: Path, tree: Any = None) -> Inventory:
    tree = yamlfile.load(path) if tree is None else tree
    graph = Graph(str(path))
    for name, body, at in yamlfile.items(tree, str(path)):
        _yaml_group(graph, name, body, at, str(path))
    return graph.inventory("ansible-yaml")


def expand(pattern: str, where: str) -> list[str]:
    """Ansible host ranges: `r[01:03]` -> r01 r02 r03, `sw-[a:c]` -> sw-a sw-b sw-c, `[1:9:2]` with a step."""
    m = _RANGE.search(pattern)
    if m is None:
        return [pattern]
    start, end, step = m.group(1), m.group(2), int(m.group(3) or 1)
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        values = [str(i).zfill(width) for i in range(int(start), int(end) + 1, max(1, step))]
    elif len(start) == len(end) == 1 and start.isalpha() and end.isalpha():
        values = [chr(c) for c in range(ord(start), ord(end) + 1, max(1, step))]
    else:
        raise InventoryError(f"{where}: host range {m.group(0)!r} is neither numeric nor single letters")
    if not values:
        raise InventoryError(f"{where}: host range {m.group(0)!r} is empty")
    out = [h for v in values for h in expand(pattern[: m.start()] + v + pattern[m.end():], where)]
    if len(out) > MAX_EXPANSION:
        raise InventoryError(f"{where}: host range expands to more than {MAX_EXPANSION} hosts")
    return out


def _ini_value(text: str) -> Any:
    """Ansible reads INI values as Python literals where they are one (numbers, true/false), else as text."""
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    return int(text) if text.isdigit() and not (len(text) > 1 and text.startswith("0")) else text


def _ini_pairs(words: list[str], where: str) -> Vars:
    out: Vars = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InventoryError(f"{where}: expected key=value, found {word!r}")
        if secret_key(key) or ref_key(key):
            check_key(key, value, where)
        out[key] = (_ini_value(value), where)
    return out


def load_ansible_ini(path: Path) -> Inventory:
    file = str(path)
    graph = Graph(file)
    graph.group(ALL, f"{file}:1")
    section, kind = UNGROUPED, "hosts"
    for n, line in enumerate(yamlfile.read_text(path).splitlines(), start=1):
        where = f"{file}:{n}"
        text = line.strip()
        if not text or text[0] in "#;":
            continue
        if text.startswith("["):
            if not text.endswith("]"):
                raise InventoryError(f"{where}: a section header ends with ']'")
            section, _, kind = text[1:-1].partition(":")
            kind = kind or "hosts"
            if kind not in ("hosts", "vars", "children"):
                raise InventoryError(f"{where}: unknown section kind {kind!r}", hint="use :vars or :children")
            group = graph.group(section, where)
            if section != ALL and section != UNGROUPED and section not in graph.groups[ALL].children:
                graph.groups[ALL].children.append(section)
            continue
        try:
            words = shlex.split(text, comments=True)
        except ValueError as exc:
            raise InventoryError(f"{where}: {exc}", hint="check the quotes on that line") from None
        group = graph.group(section, where)
        if kind == "vars":
            key, sep, value = text.partition("=")
            group.vars.update(_ini_pairs([f"{key.strip()}={_unquote(value.strip())}"], where) if sep else
                              _ini_pairs([text], where))
        elif kind == "children":
            if words and words[0] not in group.children:
                group.children.append(words[0])
        elif words:
            values = _ini_pairs(words[1:], where)
            for host in expand(words[0], where):
                graph.add_host(section, host, values, where)
    if UNGROUPED in graph.groups and UNGROUPED not in graph.groups[ALL].children:
        graph.groups[ALL].children.append(UNGROUPED)
    return graph.inventory("ansible-ini")


def _unquote(value: str) -> str:
    try:
        words = shlex.split(value)
    except ValueError:
        return value
    return words[0] if len(words) == 1 else value
