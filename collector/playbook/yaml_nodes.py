"""The fast way to read a playbook: libyaml (C) composes the node tree, and we take plain data and the line and
column of every key and list item from it, exactly as the round-trip reader (ruamel, pure Python) gives them.

Anything that reader treats specially (an error, a directive, a tag, an anchor or alias, a merge key, a duplicate
key, a date) returns None: the caller reads the file with ruamel, whose data and error messages are the reference.
"""

from __future__ import annotations

import re
from typing import Any

from .issues import Loc

_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_DATE_LIKE = re.compile(r"\d{4}-")  # ruamel reads `2026-12-06` (and date-times) as dates: let it
_DIRECTIVE = re.compile(r"^%", re.M)
_TAG = re.compile(r"(?:^|[\s\[\]{},:?-])!")  # where a tag can start (a `!` inside text only costs the fast path)


class _NeedsRoundTrip(Exception):
    """The document uses something only the round-trip reader reproduces faithfully."""


def load_with_locations(text: str) -> tuple[Any, dict[Loc, tuple[int, int]]] | None:
    """(data, {location: (line, column)}, 1-based) of a bounded playbook text, or None (read it with ruamel).

    Call only after yaml_bounds.check_bounds: nesting is bounded there, and an alias here means a fallback."""
    if _DIRECTIVE.search(text) or _TAG.search(text):
        return None  # `%YAML 1.1` changes how scalars read; an explicit tag (`!!str 12`) ruamel keeps as a tag
    try:
        import yaml

        from ..platforms.sources import core12_loader
    except ImportError:
        return None
    loader = core12_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {(): (1, 1)}
        locations: dict[Loc, tuple[int, int]] = {(): (1, 1)}
        data = _Builder(loader, locations).build(node, ())
    except (yaml.YAMLError, _NeedsRoundTrip, ValueError, TypeError, OverflowError):
        return None
    finally:
        loader.dispose()
    return data, locations


class _Builder:
    def __init__(self, loader: Any, locations: dict[Loc, tuple[int, int]]) -> None:
        self.loader, self.locations = loader, locations
        self.seen: set[int] = set()  # node ids: a node met twice came from an alias

    def build(self, node: Any, loc: Loc) -> Any:
        if id(node) in self.seen or getattr(node, "anchor", None):
            raise _NeedsRoundTrip
        self.seen.add(id(node))
        if node.tag == _MAP:
            return self._mapping(node, loc)
        if node.tag == _SEQ:
            out = []
            for i, item in enumerate(node.value):
                self.locations[loc + (i,)] = (item.start_mark.line + 1, item.start_mark.column + 1)
                out.append(self.build(item, loc + (i,)))
            return out
        return self._scalar(node)

    def _mapping(self, node: Any, loc: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag not in _PLAIN_TAGS or id(key_node) in self.seen:
                raise _NeedsRoundTrip  # merge keys (<<), complex keys, aliased keys
            self.seen.add(id(key_node))
            key = self._scalar(key_node)
            if key in out or isinstance(key, float):
                raise _NeedsRoundTrip  # a duplicate key is ruamel's error to report
            self.locations[loc + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, loc + (key,))
        return out

    def _scalar(self, node: Any) -> Any:
        if node.tag not in _PLAIN_TAGS or not hasattr(node, "style"):
            raise _NeedsRoundTrip
        if not node.style and _DATE_LIKE.match(node.value):
            raise _NeedsRoundTrip
        return self.loader.construct_object(node, deep=True)


__all__ = ["load_with_locations"]
