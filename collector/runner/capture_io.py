"""Small pieces the capture engine reads the stream with: debug-command tests, the log-buffer diff,
an in-memory sink, and a tee that keeps what raced a command (so no debug line is lost around it).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable

from ..session.session import Session
from ..store.stepfile import StepFile

_DEBUG_ON = re.compile(r"^\s*deb(u|ug)?\s+\S", re.IGNORECASE)
_DEBUG_OFF = re.compile(r"^\s*(u|un|und|undeb|undebu|undebug)\s+\S|^\s*no\s+deb(u|ug)?(\s|$)", re.IGNORECASE)


def is_debug_on(command: str) -> bool:
    return _DEBUG_ON.match(command) is not None


def is_debug_off(command: str) -> bool:
    return _DEBUG_OFF.match(command) is not None


def new_log_lines(marker: list[bytes], lines: list[bytes]) -> tuple[list[bytes], bool]:
    """Buffer-poll mode: the lines of a `show logging` output that follow the last-seen marker.

    `marker` is the last few lines of the previous poll. Returns (new lines, marker found). When the marker is
    gone (the buffer wrapped or was cleared) every line is new and found is False.
    """
    if not marker:
        return list(lines), True
    k = len(marker)
    for end in range(len(lines), k - 1, -1):
        if lines[end - k : end] == marker:
            return lines[end:], True
    return list(lines), False


class Collect:
    """A sink that keeps a command's output in memory (pre-check and poll outputs are small)."""

    def __init__(self, limit: int = 16 << 20, tee: StepFile | None = None) -> None:
        self.data = bytearray()
        self.limit = limit
        self.tee = tee

    def write(self, data: bytes) -> None:
        if self.tee is not None:
            self.tee.write(data)
        if len(self.data) < self.limit:
            self.data += data[: self.limit - len(self.data)]


Chunk = tuple[bytes, float, float]  # bytes, monotonic and epoch receive time


class Tee:
    """Keeps what a command read (with receive times) so lines that raced the command stay in the capture."""

    def __init__(self, session: Session, clock: Callable[[], float], limit: int = 256 * 1024) -> None:
        self.session = session
        self.clock = clock
        self.limit = limit
        self.size = 0
        self.chunks: list[Chunk] = []
        self._orig = session._read

    def __enter__(self) -> Tee:
        orig = self._orig

        def read(timeout: float) -> bytes:
            data = orig(timeout)
            if data and self.size < self.limit:
                self.chunks.append((data, self.clock(), time.time()))
                self.size += len(data)
            return data

        setattr(self.session, "_read", read)  # noqa: B010 - an instance attribute shadows the method
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(AttributeError):
            delattr(self.session, "_read")

    def around_echo(self, command: str) -> tuple[list[Chunk], list[Chunk]]:
        """The chunks (cut) before the line where `command` was echoed, and those after that line."""
        joined = b"".join(c for c, _, _ in self.chunks)
        at = joined.find(command.encode()[:24])
        if at < 0:
            return [], []
        start = joined.rfind(b"\n", 0, at) + 1
        nl = joined.find(b"\n", at)
        end = nl + 1 if nl >= 0 else len(joined)
        before: list[Chunk] = []
        after: list[Chunk] = []
        pos = 0
        for data, mono, utc in self.chunks:
            lo, hi = pos, pos + len(data)
            pos = hi
            if lo < start:
                before.append((data[: min(hi, start) - lo], mono, utc))
            if hi > end:
                after.append((data[max(lo, end) - lo :], mono, utc))
        return before, after
