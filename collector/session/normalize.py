"""Streaming normaliser: raw device bytes → clean step text (LF endings, no ANSI, no pager debris).

Works block by block with a tiny carry-over, so a 1 GB output never sits in memory.
"""

from __future__ import annotations

import re

from ..expect.text import ANSI as _ANSI

# An escape sequence that may still be incomplete at the end of a block.
_ANSI_PARTIAL = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?)?\Z")
# The erase sequence devices send after a pager prompt: backspaces, blanks, backspaces (IOS); or cursor-left,
# blanks, cursor-left (VRP: ESC[16D); or CR, blanks, CR; or erase-line.
_ERASE = rb"(?:\x08+[ \t]*\x08*|\x1b\[\d*D[ \t]*\x1b\[\d*D|\r[ \t]*\r|\r?\x1b\[\d?K)?"
_CARRY_LIMIT = 64
_LONG_LINE = 8192  # longer "lines" (binary, no LF) are cut at a safe point instead


class Normalizer:
    """Feed raw bytes, get normalised bytes; call `flush()` at the end of the output."""

    def __init__(self, paging_patterns: list[str] | None = None) -> None:
        pats = [p for p in (paging_patterns or []) if p]
        self._paging = (
            re.compile(rb"(?:" + b"|".join(p.encode() for p in pats) + rb")[ \t]*" + _ERASE) if pats else None
        )
        self._carry = b""
        #: set by the session once it answered a pager prompt; until then pager removal costs nothing
        self.paging_active = False

    def feed(self, data: bytes) -> bytes:
        """Transform every complete line; the incomplete last line waits for more bytes.

        Everything this normaliser removes (CR before LF, pager prompt + erase, ANSI) lives inside
        one line, so line-wise processing is exact whatever the read boundaries were.
        """
        buf = self._carry + data if self._carry else data
        nl = buf.rfind(b"\n")
        if nl != -1:
            cut = nl + 1
        elif len(buf) <= _LONG_LINE:
            self._carry = buf
            return b""
        else:
            cut = self._safe_cut(buf)
        self._carry = buf[cut:]
        return self._transform(buf[:cut])

    def flush(self) -> bytes:
        rest, self._carry = self._carry, b""
        return self._transform(rest)

    @staticmethod
    def _safe_cut(buf: bytes) -> int:
        """A very long line: cut it anywhere that does not split an escape, a CR LF or a pager prompt."""
        cut = len(buf) - _CARRY_LIMIT
        esc = buf.rfind(b"\x1b", cut - _CARRY_LIMIT)
        if esc != -1 and esc < cut and _ANSI_PARTIAL.match(buf, esc, cut):
            cut = esc
        while cut > 0 and buf[cut - 1 : cut] in (b"\r", b"\x08", b"-", b" "):
            cut -= 1
        return cut

    def _transform(self, s: bytes) -> bytes:
        if not s:
            return s
        if self.paging_active and self._paging is not None:
            s = self._paging.sub(b"", s)
        if b"\x1b" in s:
            s = _ANSI.sub(b"", s)
        if b"\r" in s:
            s = s.replace(b"\r\n", b"\n").replace(b"\r\x00", b"").replace(b"\r", b"")
        if b"\x00" in s:
            s = s.replace(b"\x00", b"")
        return s

