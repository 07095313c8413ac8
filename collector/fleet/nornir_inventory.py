"""nornir SimpleInventory: hosts.yaml with groups.yaml and defaults.yaml beside it, nornir's inheritance rules.

A value is looked up on the host, then on its groups in order (each group before its own parents, depth
first), then in defaults; `data` keys are looked up the same way. collector's own keys may sit in `data`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from ..errors import InventoryError
from . import yamlfile
from .hostvars import Vars, build_device
from .model import Device, Inventory

FIELDS = ("hostname", "port", "username", "password", "platform", "connection_options")


def _layer(node: Any, file: str, where: str) -> Vars:
    """One host's, group's or defaults' own values (top-level fields and `data`), each with its file:line."""
    if node is None:
        return {}
    if not isinstance(node, CommentedMap):
        raise InventoryError(f"{where}: expected a mapping of attributes (hostname, port, groups, data ...)")
    out: Vars = {}
    for key, value, at in yamlfile.items(node, file):
        if key == "data":
            if value is None:
                continue
            if not isinstance(value, CommentedMap):
                raise InventoryError(f"{at}: data must be a mapping")
            for dkey, dvalue, dat in yamlfile.items(value, file):
                out.setdefault(dkey, (yamlfile.plain(dvalue), dat))
        elif key != "groups" and value is not None:
            out[key] = (yamlfile.plain(value), at)
    return out


def _parents(node: Any, file: str, where: str) -> list[str]:
    groups = node.get("groups") if isinstance(node, CommentedMap) else None
    if groups is None:
        return []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise InventoryError(f"{yamlfile.where(node, 'groups', file)}: groups must be a list of group names")
    return [str(g) for g in groups]


class _Groups:
    def __init__(self, tree: Any, file: str) -> None:
        self.file = file
        self.tree = tree if isinstance(tree, CommentedMap) else CommentedMap()
        if tree is not None and not isinstance(tree, CommentedMap):
            raise InventoryError(f"{file}: expected a mapping of group names")

    def order(self, direct: list[str], where: str) -> list[str]:
        """Every group in lookup order: each group, then its parents depth first (nornir's order)."""
        out: list[str] = []

        def visit(name: str, chain: tuple[str, ...], at: str) -> None:
            if name in chain:
                raise InventoryError(f"{at}: group {name!r} is its own parent ({' -> '.join(chain + (name,))})")
            if name not in self.tree:
                raise InventoryError(f"{at}: group {name!r} is not defined in {self.file}",
                                     hint="add it to groups.yaml or remove it from the list")
            if name not in out:
                out.append(name)
            node = self.tree[name]
            for parent in _parents(node, self.file, at):
                visit(parent, chain + (name,), yamlfile.where(self.tree, name, self.file))

        for g in direct:
            visit(g, (), where)
        return out

    def layer(self, name: str) -> Vars:
        return _layer(self.tree[name], self.file, yamlfile.where(self.tree, name, self.file))


def load_nornir(hosts_file: Path, groups_file: Path | None = None, defaults_file: Path | None = None) -> Inventory:
    folder = hosts_file.parent
    groups_file = groups_file or folder / "groups.yaml"
    defaults_file = defaults_file or folder / "defaults.yaml"
    hosts = yamlfile.load(hosts_file)
    groups = _Groups(yamlfile.load(groups_file) if groups_file.exists() else None, str(groups_file))
    defaults = _layer(yamlfile.load(defaults_file), str(defaults_file), str(defaults_file)) \
        if defaults_file.exists() else {}
    if hosts is None:
        hosts = CommentedMap()
    if not isinstance(hosts, CommentedMap):
        raise InventoryError(f"{hosts_file}: expected a mapping of host names (nornir SimpleInventory hosts.yaml)")
    devices: list[Device] = []
    for name, node, at in yamlfile.items(hosts, str(hosts_file)):
        order = groups.order(_parents(node, str(hosts_file), at), at)
        merged: Vars = {}
        for layer in [_layer(node, str(hosts_file), at), *(groups.layer(g) for g in order), defaults]:
            for key, item in layer.items():
                merged.setdefault(key, item)  # the first layer that has a value wins
        devices.append(build_device(name, merged, order, at))
    return Inventory(devices, set(groups.tree.keys()), str(hosts_file), "nornir")
