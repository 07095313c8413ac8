"""The one dialog engine: tables of statements (pattern → action) and a single read/match/answer loop.

Used for login, enable, paging and confirm replies inside a command, logout, and the jump host's shell.

Matching rule (documented, tested): every statement's pattern is matched against the screen text of a bounded
tail window and counts only when its match reaches the end of that text. When several statements match, the one
whose match *starts earliest* wins (it saw the most context, e.g. "Login incorrect … login:" beats "login:");
equal starts are decided by the higher `priority`, then by table order. A statement whose `applies(context)` is
false is skipped. After a statement acts, the tail is cleared so the same text never answers twice.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from .text import strip_for_match

T = TypeVar("T")

#: what an action returns: bytes to send (None: send nothing). An action may raise to end the dialog.
Action = Callable[["DialogContext"], bytes | None]
DEFAULT_WINDOW = 2048


class ByteIO(Protocol):
    """What the engine reads from and writes to: a session stream or a transport's inner channel."""

    def read(self, timeout: float) -> bytes: ...

    def write(self, data: bytes) -> None: ...


class DialogTimeout(Exception):
    """No end condition within the time allowed; `idle` tells an idle timeout from the overall one."""

    def __init__(self, idle: bool, tail: bytes) -> None:
        super().__init__("idle timeout" if idle else "timeout")
        self.idle = idle
        self.tail = tail


class TooManyMatches(Exception):
    """A statement matched more often than its `max_count` (an answer loop, e.g. a refused password)."""

    def __init__(self, statement: Statement) -> None:
        super().__init__(f"{statement.name} matched more than {statement.max_count} times")
        self.statement = statement


@dataclass
class DialogContext:
    """What actions can see: match counts, the matched text, and notes shared between actions."""

    counts: dict[str, int] = field(default_factory=dict)
    matched: bytes = b""
    notes: dict[str, object] = field(default_factory=dict)


@functools.lru_cache(maxsize=1024)
def _anchored(pattern: str) -> re.Pattern[bytes]:
    """A statement's regex, compiled once per process (a session builds its command dialog per command)."""
    pattern = pattern.replace("(?i)", "")  # always case-insensitive; an inner global flag would be an error
    return re.compile(f"(?:{pattern})\\s*\\Z".encode(), re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Statement:
    """When `pattern` matches at the end of the tail, run `action`; the dialog ends unless `loop_continue`."""

    name: str
    pattern: re.Pattern[bytes]
    action: Action | None = None
    loop_continue: bool = True
    max_count: int = 10
    priority: int = 0
    applies: Callable[[DialogContext], bool] | None = None

    @classmethod
    def of(cls, name: str, pattern: str, action: Action | None = None, *, loop_continue: bool = True,
           max_count: int = 10, priority: int = 0,
           applies: Callable[[DialogContext], bool] | None = None) -> Statement:
        """A statement from a text regex, matched case-insensitively and multi-line, anchored at the end."""
        return cls(name, _anchored(pattern), action, loop_continue, max_count, priority, applies)


@dataclass
class Quiet:
    """What to do when the line stays silent for `after` seconds (e.g. send Return to wake a console)."""

    after: float
    action: Action
    max_times: int = 6


@dataclass
class Outcome(Generic[T]):
    """How a dialog ended: the end condition's value, or the statement that stopped it."""

    value: T | None = None
    statement: Statement | None = None


@dataclass
class Dialog:
    """A table of statements and the loop that runs it."""

    statements: list[Statement]
    window: int = DEFAULT_WINDOW

    def __add__(self, other: Dialog) -> Dialog:
        return Dialog(self.statements + other.statements, max(self.window, other.window))

    def match(self, tail: bytes | bytearray, ctx: DialogContext) -> Statement | None:
        """The winning statement for this tail (see the module docstring), counted in `ctx`; else None."""
        if not self.statements:
            return None
        text = strip_for_match(bytes(tail[-self.window :]))
        best: tuple[int, int, int] | None = None
        winner: Statement | None = None
        found = b""
        for order, st in enumerate(self.statements):
            if st.applies is not None and not st.applies(ctx):
                continue
            m = st.pattern.search(text)
            if m is None:
                continue
            key = (m.start(), -st.priority, order)
            if best is None or key < best:
                best, winner, found = key, st, m.group(0)
        if winner is not None:
            ctx.counts[winner.name] = ctx.counts.get(winner.name, 0) + 1
            ctx.matched = found
        return winner

    def process(
        self,
        io: ByteIO,
        *,
        timeout: float | None,
        context: DialogContext | None = None,
        until: Callable[[bytearray], T | None] | None = None,
        idle_timeout: float | None = None,
        on_data: Callable[[bytes], None] | None = None,
        quiet: Quiet | None = None,
    ) -> Outcome[T]:
        """Read, let `on_data` see every chunk, stop when `until(tail)` gives a value, answer statements.

        `until` may clear the tail it is given (e.g. after asking for a second prompt). Raises DialogTimeout
        when `timeout` (overall) or `idle_timeout` (no byte) passes, TooManyMatches on an answer loop.
        """
        ctx = context or DialogContext()
        tail = bytearray()
        start = last = time.monotonic()
        deadline = start + timeout if timeout is not None else None
        wakes = 0
        while True:
            now = time.monotonic()
            limits = [t for t in (deadline, last + idle_timeout if idle_timeout is not None else None) if t]
            if quiet is not None and wakes < quiet.max_times:
                limits.append(last + quiet.after)
            wait = min(limits) - now if limits else 1.0
            if deadline is not None and now >= deadline:
                raise DialogTimeout(False, bytes(tail))
            if idle_timeout is not None and now - last >= idle_timeout:
                raise DialogTimeout(True, bytes(tail))
            data = io.read(max(0.0, wait))
            if not data:
                if quiet is not None and wakes < quiet.max_times and time.monotonic() - last >= quiet.after:
                    wakes += 1
                    last = time.monotonic()
                    tail.clear()
                    self._send(io, quiet.action(ctx))
                continue
            last = time.monotonic()
            tail += data
            if len(tail) > 4 * self.window:
                del tail[: -self.window]
            if on_data is not None:
                on_data(data)
            if until is not None:
                value = until(tail)
                if value is not None:
                    return Outcome(value=value)
            st = self.match(tail, ctx)
            if st is None:
                continue
            if ctx.counts[st.name] > st.max_count:
                raise TooManyMatches(st)
            tail.clear()
            self._send(io, st.action(ctx) if st.action is not None else None)
            if not st.loop_continue:
                return Outcome(statement=st)

    @staticmethod
    def _send(io: ByteIO, data: bytes | None) -> None:
        if data:
            io.write(data)
