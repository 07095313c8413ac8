"""Bytes into lines with receive times, for the capture engine: a line's time is when its first byte came.

A stream with no newline is cut into bounded pieces, so memory stays flat whatever the device sends.
"""

from __future__ import annotations

from collections.abc import Callable

from ..session.stream import Chunk

MAX_LINE = 64 * 1024  # a longer run of bytes without a newline is stored as pieces of this size

OnLine = Callable[[bytes, float, float], None]


class LineSplitter:
    """Feed (bytes, monotonic, epoch); complete lines go to `on_line` with the time their first byte arrived."""

    def __init__(self, on_line: OnLine) -> None:
        self.on_line = on_line
        self.pending = bytearray()
        self.pending_at: tuple[float, float] | None = None

    def feed(self, data: bytes, mono: float, utc: float) -> None:
        start = 0
        if not self.pending:
            self.pending_at = (mono, utc)
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            piece = data[start:nl]
            if self.pending:
                self.pending += piece
                line = bytes(self.pending)
                self.pending.clear()
                at = self.pending_at or (mono, utc)
            else:
                line, at = piece, (mono, utc)
            self.on_line(line.rstrip(b"\r"), at[0], at[1])
            start = nl + 1
        if start < len(data):
            if not self.pending:
                self.pending_at = (mono, utc)
            self.pending += data[start:]
            if len(self.pending) > MAX_LINE:  # a stream without newlines: keep it in bounded pieces
                at = self.pending_at or (mono, utc)
                piece = bytes(self.pending)
                self.pending.clear()
                self.on_line(piece, at[0], at[1])

    def feed_chunks(self, chunks: list[Chunk]) -> None:
        for data, mono, utc in chunks:
            self.feed(data, mono, utc)

    def drop_partial(self) -> None:
        """Forget an incomplete line (the prompt a command was typed at)."""
        self.pending.clear()

    def flush(self, now: tuple[float, float]) -> None:
        """The incomplete last line, as a line of its own (at the end of a capture or before a gap)."""
        if self.pending:
            at = self.pending_at or now
            line = bytes(self.pending).rstrip(b"\r")
            self.pending.clear()
            self.on_line(line, at[0], at[1])
