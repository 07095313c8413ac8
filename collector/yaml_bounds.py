"""Bounds for any YAML collector reads (playbooks, inventories, platform files): nesting depth, alias expansion,
value count and number length, measured from the parser's events before anything is built.

A 300-byte "billion laughs" file or a 1,000-level nesting ends as a YamlLimit with its line at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ruamel.yaml import YAML

MAX_DEPTH = 64  # nesting, counted after alias expansion (real playbooks stay below 8)
MAX_ALIASES = 1_000
MAX_NODES = 100_000  # values after alias expansion
MAX_NUMBER_DIGITS = 30
_NUMBER = re.compile(r"[-+]?(0[xob])?[0-9_]+(\.[0-9_]*)?([eE][-+]?[0-9]+)?")
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class YamlLimit(ValueError):
    """The document passes a limit; carries the 1-based line and a hint."""

    def __init__(self, line: int, message: str, hint: str, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.hint = hint


@dataclass
class _Frame:
    """A collection being measured: its anchor, the values under it, and its depth."""

    anchor: str | None
    nodes: int = 1
    height: int = 0


@dataclass
class _Measure:
    """Expanded size and height of every node, tracked from the event stream."""

    anchors: dict[str, tuple[int, int]] = field(default_factory=dict)
    stack: list[_Frame] = field(default_factory=list)
    aliases: int = 0
    max_nodes: int = MAX_NODES

    def add(self, nodes: int, height: int, line: int) -> None:
        if len(self.stack) + height > MAX_DEPTH:
            raise YamlLimit(line, f"nesting deeper than {MAX_DEPTH} levels", "a playbook needs only a few levels")
        if self.stack:
            top = self.stack[-1]
            top.nodes += nodes
            top.height = max(top.height, height)
            if top.nodes > self.max_nodes:
                raise YamlLimit(
                    line,
                    f"more than {self.max_nodes:,} values once aliases are expanded",
                    "aliases (*name) that repeat anchors of anchors grow exponentially; write the values out",
                )

    def event(self, ev: Any, line: int, kinds: tuple[Any, ...]) -> None:
        """One node event of either parser (ruamel's or libyaml's event classes, same fields)."""
        alias, scalar, start = kinds[:3]
        if isinstance(ev, alias):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise YamlLimit(line, f"more than {MAX_ALIASES} aliases", "write the repeated values out")
            nodes, height = self.anchors.get(str(ev.anchor), (1, 1))
            self.add(nodes, height, line)
        elif isinstance(ev, scalar):
            _check_number(ev, line)
            self._done(ev.anchor, 1, 1, line)
        elif isinstance(ev, start):
            if len(self.stack) + 1 > MAX_DEPTH:
                raise YamlLimit(line, f"nesting deeper than {MAX_DEPTH} levels", "a playbook needs only a few levels")
            self.stack.append(_Frame(None if ev.anchor is None else str(ev.anchor)))

    def end(self, line: int) -> None:
        frame = self.stack.pop()
        self._done(frame.anchor, frame.nodes, frame.height + 1, line)

    def _done(self, anchor: Any, nodes: int, height: int, line: int) -> None:
        if anchor is not None:
            self.anchors[str(anchor)] = (nodes, height)
        self.add(nodes, height, line)


def _check_number(ev: Any, line: int) -> None:
    tag = str(ev.tag) if ev.tag is not None else ""
    plain = not ev.style  # ruamel: None, libyaml: ""
    if (plain or tag in _NUMBER_TAGS) and _NUMBER.fullmatch(ev.value or ""):
        digits = sum(ch.isdigit() for ch in ev.value)
        if digits > MAX_NUMBER_DIGITS:
            raise YamlLimit(
                line, f"a number with {digits} digits (at most {MAX_NUMBER_DIGITS})", "quote it if it is text"
            )


def check_bounds(yaml: YAML | None, text: str, max_nodes: int = MAX_NODES) -> None:
    """Raise YamlLimit (with the line) when the document passes a limit; YAMLError when it does not parse.

    The event pass runs in libyaml (C) when it is there; a document libyaml cannot parse is measured again by
    ruamel, whose error (or success) is the one that counts (`yaml`: the ruamel reader to use, or a safe one)."""
    try:
        import yaml as pyyaml

        loader = pyyaml.CSafeLoader
    except (ImportError, AttributeError):
        _measure_with_ruamel(yaml, text, max_nodes)
        return
    from yaml import events as ev

    try:
        _measure(pyyaml.parse(text, Loader=loader),
                 (ev.AliasEvent, ev.ScalarEvent, ev.CollectionStartEvent, ev.CollectionEndEvent), max_nodes)
    except pyyaml.YAMLError:
        _measure_with_ruamel(yaml, text, max_nodes)


def _measure_with_ruamel(yaml: YAML | None, text: str, max_nodes: int) -> None:
    """The pure-Python pass (imported only when libyaml is missing or fails): ruamel's errors are the ones shown."""
    from ruamel.yaml import YAML
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

    kinds = (AliasEvent, ScalarEvent, CollectionStartEvent, CollectionEndEvent)
    _measure((yaml or YAML(typ="safe", pure=True)).parse(text), kinds, max_nodes)


def _measure(events: Any, kinds: tuple[Any, Any, Any, Any], max_nodes: int = MAX_NODES) -> None:
    alias, scalar, start, end = kinds
    measure = _Measure(max_nodes=max_nodes)
    for ev in events:
        line = ev.start_mark.line + 1 if ev.start_mark is not None else 1
        try:
            if isinstance(ev, end):
                measure.end(line)
            elif isinstance(ev, alias | scalar | start):
                measure.event(ev, line, kinds)
        except YamlLimit as exc:
            exc.column = ev.start_mark.column + 1 if ev.start_mark is not None else 1
            raise


__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_NODES", "MAX_NUMBER_DIGITS", "YamlLimit", "check_bounds"]
