"""The round-trip YAML tree of a playbook turned into plain data, with the line and column of every key and item.

`{{ name }}` variables are substituted under steps/cleanup on the way; undefined ones become issues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import variables
from .issues import SUBSTITUTED_SECTIONS, Loc, PlaybookIssue, where


def collect_locations(node: Any, loc: Loc, out: dict[Loc, tuple[int, int]]) -> None:
    """Positions from ruamel's round-trip tree (the reader of what libyaml hands over)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        for key in node:
            try:
                line, col = node.lc.key(key)
            except (KeyError, TypeError, AttributeError):
                line, col = out.get(loc, (0, 0))
                line, col = line - 1, col - 1
            out[loc + (key,)] = (line + 1, col + 1)
            collect_locations(node[key], loc + (key,), out)
    elif isinstance(node, CommentedSeq):
        for i, item in enumerate(node):
            try:
                line, col = node.lc.item(i)
            except (KeyError, TypeError, AttributeError):
                line, col = out.get(loc, (1, 1))
                line, col = line - 1, col - 1
            out[loc + (i,)] = (line + 1, col + 1)
            collect_locations(item, loc + (i,), out)


def locate(locations: Mapping[Loc, tuple[int, int]], loc: Loc) -> tuple[int, int]:
    return locations[existing_prefix(locations, loc)]


def existing_prefix(locations: Mapping[Loc, tuple[int, int]], loc: Loc) -> Loc:
    for n in range(len(loc), 0, -1):
        if loc[:n] in locations:
            return loc[:n]
    return ()


class Converter:
    """Turns the round-trip tree into plain Python data, substituting {{ vars }} under steps/cleanup."""

    def __init__(self, values: Mapping[str, str], locations: Mapping[Loc, tuple[int, int]], file: str) -> None:
        self.values = values
        self.locations = locations
        self.file = file
        self.issues: list[PlaybookIssue] = []
        self.referenced: set[str] = set()  # every {{ name }} seen under steps/cleanup

    def convert(self, node: Any, loc: Loc = (), substitute: bool = False) -> Any:
        if isinstance(node, dict):
            out: dict[Any, Any] = {}
            for key, value in node.items():
                sub = substitute or (loc == () and key in SUBSTITUTED_SECTIONS)
                out[scalar(key)] = self.convert(value, loc + (key,), sub)
            return out
        if isinstance(node, list):
            return [self.convert(item, loc + (i,), substitute) for i, item in enumerate(node)]
        value = scalar(node)
        if substitute and isinstance(value, str) and "{{" in value:
            self.referenced.update(variables.references(value))
            problems = variables.problems(value, self.values)
            if problems:
                line, col = locate(self.locations, loc)
                for p in problems:
                    hint = "define it under vars: or pass --var NAME=VALUE" if p.name else ""
                    self.issues.append(PlaybookIssue(self.file, line, col, f"{where(loc)}: {p.message}", hint))
                return value
            return variables.substitute(value, self.values)
        return value


def scalar(node: Any) -> Any:
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


__all__ = ["Converter", "collect_locations", "existing_prefix", "locate", "scalar"]
