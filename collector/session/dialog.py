"""Dialogs as unordered sets of statements (pattern → action, continue or finish), unicon style.

A dialog watches the tail of the stream; whichever statement matches acts, in any order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .normalize import strip_for_match

# What an action may return: bytes to send (None = send nothing).
Action = Callable[["DialogContext"], bytes | None]


@dataclass
class Statement:
    """When `pattern` matches the end of the tail, run `action`; stop the dialog unless `loop_continue`."""

    name: str
    pattern: re.Pattern[bytes]
    action: Action | None = None
    loop_continue: bool = True
    max_matches: int = 10  # a guard against answer loops (e.g. repeated password prompts)

    @classmethod
    def of(cls, name: str, pattern: str, action: Action | None = None, *, loop_continue: bool = True,
           max_matches: int = 10) -> Statement:
        if pattern.startswith("(?i)"):
            pattern = pattern[4:]  # always case-insensitive; an inner global flag would be an error
        return cls(name, re.compile(pattern.encode(), re.IGNORECASE | re.MULTILINE), action, loop_continue,
                   max_matches)


@dataclass
class DialogContext:
    """What actions can see: match counts, the matched text, and shared notes."""

    counts: dict[str, int] = field(default_factory=dict)
    matched: bytes = b""
    notes: dict[str, object] = field(default_factory=dict)


@dataclass
class Dialog:
    statements: list[Statement]
    window: int = 2048

    def match(self, tail: bytes | bytearray, ctx: DialogContext) -> Statement | None:
        """The first statement whose pattern matches the end of the tail (trailing blanks ignored)."""
        text = strip_for_match(bytes(tail[-self.window :]))
        for st in self.statements:
            m = st.pattern.search(text)
            if m is not None and m.end() >= len(text) - 1:
                ctx.counts[st.name] = ctx.counts.get(st.name, 0) + 1
                ctx.matched = m.group(0)
                return st
        return None
