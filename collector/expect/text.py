"""Screen text for matching: a line as it looks on a terminal (no ANSI, CR, NUL, trailing blanks).

Matching code never sees raw escape sequences; stored bytes are never changed by anything here.
"""

from __future__ import annotations

import re

#: CSI sequences (ESC [ ... final), OSC (ESC ] ... BEL/ST), and two-byte ESC sequences.
ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def strip_for_match(line: bytes) -> bytes:
    """A line as it looks on screen, for prompt matching: no ANSI, CR, NUL, backspaced text or trailing blanks."""
    if b"\x1b" in line:
        line = ANSI.sub(b"", line)
    line = line.replace(b"\r", b"").replace(b"\x00", b"")
    if b"\x08" in line:
        line = _render_backspaces(line)
    return line.rstrip(b" \t")


def _render_backspaces(text: bytes) -> bytes:
    """What a terminal shows after backspaces move the cursor left and later bytes overwrite (pager erase)."""
    out = bytearray()
    pos = line_start = 0
    for b in text:
        if b == 8:
            pos = max(line_start, pos - 1)
            continue
        if b == 10:
            out += b"\n"
            pos = line_start = len(out)
            continue
        if pos < len(out):
            out[pos] = b
        else:
            out.append(b)
        pos += 1
    return bytes(out)


def last_line(buf: bytes | bytearray) -> bytes:
    """The text after the last LF (the line a prompt would be on)."""
    nl = buf.rfind(b"\n")
    return bytes(buf[nl + 1 :])
