"""Offset resume: continue an interrupted step from the bytes already kept, proven by an overlap check.

The continuation command re-reads a little before the cut; only if those bytes match is the rest appended.
"""

from __future__ import annotations

from pathlib import Path

from ..secrets import Masker
from ..store.stepfile import StepFile

OVERLAP = 4096
COPY_BLOCK = 1 << 20


def continuation_command(template: str, kept: int, overlap: int) -> str:
    """Fill {offset} (0-based) and {offset1} (1-based, as `tail -c +N` wants) with the restart point."""
    start = kept - overlap
    return template.replace("{offset1}", str(start + 1)).replace("{offset}", str(start))


class OverlapSink:
    """Writes the continuation into a StepFile that already holds the kept prefix, after checking the overlap."""

    def __init__(self, target: StepFile, expected: bytes) -> None:
        self.target = target
        self.expected = expected
        self.pending = bytearray()
        self.verified = not expected
        self.mismatch = False

    def write(self, data: bytes) -> None:
        if self.mismatch:
            return
        if self.verified:
            self.target.write(data)
            return
        self.pending += data
        if len(self.pending) < len(self.expected):
            if not self.expected.startswith(bytes(self.pending)):
                self.mismatch = True
            return
        if bytes(self.pending[: len(self.expected)]) != self.expected:
            self.mismatch = True
            return
        self.verified = True  # the overlap matched: it completes the kept prefix, the rest follows
        data, self.pending = bytes(self.pending), bytearray()
        self.target.write(data)


def prepare(partial: Path, final: Path, masker: Masker) -> tuple[StepFile, bytes, int]:
    """A StepFile holding the partial's bytes minus the overlap, the overlap bytes, and the kept size."""
    kept = partial.stat().st_size
    overlap = min(OVERLAP, kept)
    sink = StepFile(final, masker=masker)
    with partial.open("rb") as fh:
        remaining = kept - overlap
        while remaining > 0:
            block = fh.read(min(COPY_BLOCK, remaining))
            if not block:
                break
            sink.write(block)
            remaining -= len(block)
        expected = fh.read(overlap)
    return sink, expected, kept
