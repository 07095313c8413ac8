"""The wire side of a simulated session: reading keys and lines as a terminal sends them, and paged output.

The pager is the profile's (`cli.paging`): its prompt text, the keys that continue, the erase sent after a key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from .channel import ByteChannel
from .style import Paging

SEND_BLOCK = 64 * 1024


class SessionEnd(Exception):
    """The client left or the session was closed by exit/logout/failed login."""


def erase_bytes(paging: Paging) -> bytes:
    """What the device sends after the key to remove its pager prompt from the screen."""
    n = len(paging.prompt)
    if paging.erase == "backspace":
        return b"\b" * n + b" " * n + b"\b" * n
    if paging.erase == "cursor-left":
        return f"\x1b[{n}D".encode() + b" " * n + f"\x1b[{n}D".encode()
    if paging.erase == "cr":
        return b"\r" + b" " * n + b"\r"
    if paging.erase == "clear-line":
        return b"\r\x1b[K"
    return b"\r\n"


class Terminal:
    """Input buffer, line editing and output (with paging) of one served connection."""

    def __init__(self, chan: ByteChannel, line_ending: bytes, paging: Paging) -> None:
        self.chan = chan
        self.le = line_ending
        self.paging = paging
        self.pending = bytearray()
        self.skip_lf = False
        self.lock = threading.RLock()
        self.at_prompt = False
        self.linebuf = ""

    def send(self, data: bytes) -> None:
        self.chan.sendall(data)

    def text(self, s: str) -> bytes:
        return s.replace("\n", "\r\n").encode() if self.le == b"\r\n" else s.encode()

    def _fill(self) -> None:
        data = self.chan.recv(4096)
        if not data:
            raise SessionEnd()
        self.pending += data

    def read_key(self) -> int:
        """One keystroke (for a pager or a y/n question); a CR swallows the LF/NUL that may follow it."""
        while True:
            if not self.pending:
                self._fill()
            b = self.pending[0]
            del self.pending[0]
            if self.skip_lf and b in (10, 0):
                self.skip_lf = False
                continue
            self.skip_lf = b == 13
            return b

    def read_line(self, echo: bool, cli: bool = False) -> str:
        """A line ended by CR, LF or CR LF / CR NUL; backspace edits; Ctrl-C gives ""; Ctrl-Z gives "\\x1a"."""
        line = bytearray()
        while True:
            if not self.pending:
                self._fill()
            with self.lock:
                out = bytearray()
                done: str | None = None
                i = 0
                n = len(self.pending)
                while i < n:
                    b = self.pending[i]
                    i += 1
                    if self.skip_lf:
                        self.skip_lf = False
                        if b in (10, 0):
                            continue
                    if b in (13, 10):
                        self.skip_lf = b == 13
                        out += b"\r\n" if echo else b""
                        done = line.decode("utf-8", "replace")
                        break
                    if b in (8, 127):
                        if line:
                            del line[-1]
                            out += b"\b \b" if echo else b""
                    elif b == 3:
                        out += b"^C\r\n" if echo else b""
                        done = ""
                        break
                    elif b == 26:
                        out += b"^Z\r\n" if echo else b""
                        done = "\x1a"
                        break
                    elif b >= 32 or b == 9:
                        line.append(b)
                        if echo:
                            out.append(b)
                del self.pending[:i]
                if out:
                    self.send(bytes(out))
                if cli:
                    self.linebuf = line.decode("utf-8", "replace")
                    if done is not None:
                        self.at_prompt = False
                if done is not None:
                    return done

    def output(self, chunks: Iterable[bytes], page_length: int) -> bool:
        """Send LF chunks as wire lines, paged when page_length > 0. False if the user quit the pager."""
        if page_length <= 0:
            self._unpaged(chunks)
            return True
        le, convert = self.le, self.le != b"\n"
        prompt, erase = self.paging.prompt.encode(), erase_bytes(self.paging)
        per_page = max(1, page_length - 1)
        left, need_more, dumping = per_page, False, False
        for c in chunks:
            pos, n = 0, len(c)
            while pos < n:
                if need_more and not dumping:
                    self.send(prompt)
                    key = chr(self.read_key())
                    self.send(erase)
                    if key in self.paging.page_keys:
                        left = per_page
                    elif key in self.paging.line_keys:
                        left = 1
                    elif key in self.paging.dump_keys and self.paging.dump_keys:
                        dumping = True
                    else:
                        return False
                    need_more = False
                if dumping:
                    part, pos = c[pos:], n
                else:
                    cut = pos
                    for _ in range(left):
                        j = c.find(b"\n", cut, n)
                        if j < 0:
                            cut = -1
                            break
                        cut = j + 1
                    if cut < 0:  # the chunk ends before the page does
                        part = c[pos:]
                        left -= part.count(b"\n")
                        pos = n
                    else:
                        part = c[pos:cut]
                        pos = cut
                        need_more = True
                self.send(part.replace(b"\n", le) if convert else part)
        return True

    def _unpaged(self, chunks: Iterable[bytes]) -> None:
        le, convert = self.le, self.le != b"\n"
        buf = bytearray()
        for c in chunks:
            if convert:
                c = c.replace(b"\n", le)
            if len(c) >= SEND_BLOCK // 2 and not buf:
                self.send(c)
                continue
            buf += c
            if len(buf) >= SEND_BLOCK // 2:
                self.send(bytes(buf))
                buf.clear()
        if buf:
            self.send(bytes(buf))


__all__ = ["SEND_BLOCK", "SessionEnd", "Terminal", "erase_bytes"]
