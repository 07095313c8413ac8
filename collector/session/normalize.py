"""Streaming normaliser: raw device bytes → clean step text (LF endings, no ANSI, no pager debris).

Works block by block with a tiny carry-over, so a 1 GB output never sits in memory.
"""

from __future__ import annotations

import re

# CSI sequences (ESC [ ... final), OSC (ESC ] ... BEL/ST), and two-byte ESC sequences.
_ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# An escape sequence that may still be incomplete at the end of a block.
_ANSI_PARTIAL = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?)?\Z")
# The erase sequence devices send after a pager prompt: backspaces, blanks, backspaces.
_ERASE = rb"(?:\x08+[ \t]*\x08*|\r[ \t]*\r|\x1b\[K)?"
_CARRY_LIMIT = 64


class Normalizer:
    """Feed raw bytes, get normalised bytes; call `flush()` at the end of the output."""

    def __init__(self, paging_patterns: list[str] | None = None) -> None:
        pats = [p for p in (paging_patterns or []) if p]
        self._paging = (
            re.compile(rb"(?:" + b"|".join(p.encode() for p in pats) + rb")[ \t]*" + _ERASE) if pats else None
        )
        # a pager prompt can be split across reads: hold back a short suffix that may start one
        self._paging_heads = {p.encode().lstrip(b" \\")[:3] for p in pats if p}
        self._carry = b""

    def feed(self, data: bytes) -> bytes:
        buf = self._carry + data if self._carry else data
        if not buf:
            return b""
        cut = len(buf)
        tail_start = max(0, cut - _CARRY_LIMIT)
        esc = buf.rfind(b"\x1b", tail_start)
        if esc != -1 and _ANSI_PARTIAL.match(buf, esc):
            cut = esc
        if buf.endswith(b"\r"):
            cut = min(cut, len(buf) - 1)
        if self._paging is not None:
            cut = min(cut, self._paging_holdback(buf, tail_start))
        self._carry = buf[cut:]
        return self._transform(buf[:cut])

    def flush(self) -> bytes:
        rest, self._carry = self._carry, b""
        return self._transform(rest)

    def _paging_holdback(self, buf: bytes, tail_start: int) -> int:
        """Where to cut so that a pager prompt (or its erase sequence) is never split."""
        cut = len(buf)
        bs = buf.rfind(b"\x08", tail_start)
        if bs != -1:
            cut = min(cut, max(tail_start, buf.rfind(b"\n", tail_start, bs) + 1))
        for head in self._paging_heads:
            if not head:
                continue
            pos = buf.rfind(head[:1], tail_start)
            if pos != -1 and b"\n" not in buf[pos:]:
                cut = min(cut, pos)
        return cut

    def _transform(self, s: bytes) -> bytes:
        if not s:
            return s
        if self._paging is not None and (b"\x08" in s or b"ore" in s or b"ORE" in s):
            s = self._paging.sub(b"", s)
        if b"\x1b" in s:
            s = _ANSI.sub(b"", s)
        if b"\r" in s:
            s = s.replace(b"\r\n", b"\n").replace(b"\r\x00", b"").replace(b"\r", b"")
        if b"\x00" in s:
            s = s.replace(b"\x00", b"")
        return s


def strip_for_match(line: bytes) -> bytes:
    """A line as it looks on screen, for prompt matching: no ANSI, CR, NUL or trailing blanks."""
    if b"\x1b" in line:
        line = _ANSI.sub(b"", line)
    return line.replace(b"\r", b"").replace(b"\x00", b"").rstrip(b" \t")


def last_line(buf: bytes | bytearray) -> bytes:
    """The text after the last LF (the line a prompt would be on)."""
    nl = buf.rfind(b"\n")
    return bytes(buf[nl + 1 :])
