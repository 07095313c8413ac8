"""Ansible's group graph (all → children → hosts) and its variable precedence, shared by the YAML and INI readers.

Precedence as Ansible documents it: `all` lowest, then groups by depth (a child over its parent), groups of the
same depth by name (later wins), and host variables over every group's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InventoryError
from .hostvars import Vars, build_device
from .model import Device, Inventory

ALL = "all"
UNGROUPED = "ungrouped"


@dataclass
class Group:
    name: str
    where: str
    vars: Vars = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


@dataclass
class Graph:
    file: str
    groups: dict[str, Group] = field(default_factory=dict)
    host_vars: dict[str, Vars] = field(default_factory=dict)
    host_where: dict[str, str] = field(default_factory=dict)

    def group(self, name: str, where: str) -> Group:
        if name not in self.groups:
            self.groups[name] = Group(name, where)
        return self.groups[name]

    def add_host(self, group: str, host: str, values: Vars, where: str) -> None:
        self.group(group, where).hosts.append(host)
        self.host_where.setdefault(host, where)
        self.host_vars.setdefault(host, {}).update(values)

    def _depths(self) -> dict[str, int]:
        """Each group's depth below `all` (the longest path, as Ansible counts it); a cycle is an error."""
        depth: dict[str, int] = {}
        roots = [g for g in self.groups if not any(g in p.children for p in self.groups.values())]
        stack: list[tuple[str, int, tuple[str, ...]]] = [(g, 0 if g == ALL else 1, (g,)) for g in roots]
        while stack:
            name, d, chain = stack.pop()
            if d <= depth.get(name, -1):
                continue
            depth[name] = d
            for child in self.groups[name].children:
                if child in chain:
                    raise InventoryError(f"{self.groups[child].where}: group {child!r} is its own ancestor")
                stack.append((child, d + 1, chain + (child,)))
        for name, g in self.groups.items():
            if name not in depth:
                raise InventoryError(f"{g.where}: group {name!r} is its own ancestor (a cycle of children)")
        return depth

    def _ancestors(self) -> dict[str, set[str]]:
        """host -> every group it is in, directly or through a child group."""
        parents: dict[str, set[str]] = {g: set() for g in self.groups}
        for g in self.groups.values():
            for child in g.children:
                parents.setdefault(child, set()).add(g.name)
        out: dict[str, set[str]] = {}
        for g in self.groups.values():
            for host in g.hosts:
                todo, seen = [g.name], out.setdefault(host, set())
                while todo:
                    cur = todo.pop()
                    if cur not in seen:
                        seen.add(cur)
                        todo.extend(parents.get(cur, ()))
        return out

    def inventory(self, kind: str) -> Inventory:
        for g in self.groups.values():
            for child in g.children:
                if child not in self.groups:
                    raise InventoryError(f"{g.where}: child group {child!r} of {g.name!r} is not defined")
        depth = self._depths()
        member_of = self._ancestors()
        devices: list[Device] = []
        for host, where in self.host_where.items():
            groups = sorted(member_of.get(host, set()) | {ALL}, key=lambda n: (depth.get(n, 1), n))
            merged: Vars = {}
            for name in groups:
                if name in self.groups:
                    merged.update(self.groups[name].vars)
            merged.update(self.host_vars.get(host, {}))
            shown = [g for g in reversed(groups) if g not in (ALL, UNGROUPED)]  # nearest group first
            devices.append(build_device(host, merged, shown, where))
        names = set(self.groups) - {ALL, UNGROUPED}
        return Inventory(devices, names, self.file, kind)
