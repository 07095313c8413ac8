"""The one reader of a transport: every byte read goes to the raw store first, then to whoever asked.

Taps let a caller (the capture engine) keep what a command's read loop saw, with receive times, without
replacing anything on a live object.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..expect.echo import find_echo
from ..store.chunks import RawStream
from ..transports.base import Transport

#: bytes, monotonic and epoch receive time
Chunk = tuple[bytes, float, float]


@dataclass
class Tap:
    """What passed through the stream while the tap was open (bounded), with receive times."""

    clock: Callable[[], float]
    limit: int = 256 * 1024
    size: int = 0
    chunks: list[Chunk] = field(default_factory=list)

    def feed(self, data: bytes) -> None:
        if self.size < self.limit:
            self.chunks.append((data, self.clock(), time.time()))
            self.size += len(data)

    def around_echo(self, command: str) -> tuple[list[Chunk], list[Chunk]]:
        """The chunks (cut) before the line where `command` was echoed, and those after that line."""
        joined = b"".join(c for c, _, _ in self.chunks)
        span = find_echo(joined, command)
        if span is None:
            return [], []
        start, end = span
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


class SessionStream:
    """Reads (write-ahead into the raw store) and writes the transport; the Return key it should send."""

    def __init__(self, transport: Transport, raw: RawStream, *, platform_return: str = "\n",
                 progress: Callable[[int], None] | None = None) -> None:
        self.transport = transport
        self.raw = raw
        self.progress = progress
        self._platform_return = platform_return.encode()
        self._taps: list[Tap] = []

    @property
    def return_char(self) -> bytes:
        """The Return key; the transport may know better (Telnet in BINARY mode reads CR LF as two Returns)."""
        return self.transport.return_key or self._platform_return

    def use_return(self, platform_return: str) -> None:
        """The platform's Return key from now on (after `platform: auto` found the platform)."""
        self._platform_return = platform_return.encode()

    @property
    def offset(self) -> int:
        """Bytes in the raw stream so far (where the next byte read will be stored)."""
        return self.raw.offset

    def read(self, timeout: float) -> bytes:
        data = self.transport.read(max(0.0, timeout))
        if data:
            self.record(data)
        return data

    def record(self, data: bytes) -> None:
        """Bytes that arrived by another path of the same transport (an exec channel): stored the same way."""
        self.raw.append(data)
        if self.progress is not None:
            self.progress(len(data))
        for tap in self._taps:
            tap.feed(data)

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def send_line(self, text: str) -> None:
        self.write(text.encode() + self.return_char)

    @contextmanager
    def tap(self, clock: Callable[[], float] = time.monotonic, limit: int = 256 * 1024) -> Iterator[Tap]:
        t = Tap(clock, limit)
        self._taps.append(t)
        try:
            yield t
        finally:
            self._taps.remove(t)
