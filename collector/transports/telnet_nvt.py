"""Telnet NVT byte rules (RFC 854/855): IAC escaping, CR NUL, and a small incremental command parser.

Used by the Telnet transport (CR NUL on input) and by the simulator's Telnet server (the whole parser).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IAC = 255
DONT = 254
DO = 253
WONT = 252
WILL = 251
SB = 250
GA = 249
NOP = 241
SE = 240

BINARY = 0
ECHO = 1
SGA = 3
STATUS = 5
TTYPE = 24
NAWS = 31
LINEMODE = 34
NEW_ENVIRON = 39

TTYPE_IS = 0
TTYPE_SEND = 1

OPTION_NAMES = {
    BINARY: "BINARY",
    ECHO: "ECHO",
    SGA: "SGA",
    STATUS: "STATUS",
    TTYPE: "TTYPE",
    NAWS: "NAWS",
    LINEMODE: "LINEMODE",
    NEW_ENVIRON: "NEW_ENVIRON",
}
VERB_NAMES = {DO: "DO", DONT: "DONT", WILL: "WILL", WONT: "WONT"}

_BARE_CR = re.compile(rb"\r(?!\n)")


def option_name(opt: int) -> str:
    return OPTION_NAMES.get(opt, str(opt))


def command(verb: int, opt: int) -> bytes:
    """IAC <verb> <opt>, e.g. command(WILL, ECHO)."""
    return bytes((IAC, verb, opt))


def subnegotiation(opt: int, payload: bytes) -> bytes:
    """IAC SB <opt> <payload, IAC doubled> IAC SE."""
    return bytes((IAC, SB, opt)) + escape_iac(payload) + bytes((IAC, SE))


def escape_iac(data: bytes) -> bytes:
    """Double every 0xFF data byte so it is not read as IAC."""
    return data.replace(b"\xff", b"\xff\xff") if b"\xff" in data else data


def encode_output(data: bytes, binary: bool = False) -> bytes:
    """Data as an NVT sender puts it on the wire: IAC doubled, and (outside BINARY) a bare CR sent as CR NUL.

    A CR ending `data` becomes CR NUL too: if the next chunk starts with LF, the reader still gets CR LF.
    """
    data = escape_iac(data)
    if not binary and b"\r" in data:
        data = _BARE_CR.sub(b"\r\x00", data)
    return data


class CrNulFilter:
    """Removes the NUL of every CR NUL pair (the NVT way to send a bare CR), across chunk boundaries.

    CR LF and every other byte pass unchanged: line endings are the session's business.
    """

    def __init__(self) -> None:
        self.after_cr = False

    def feed(self, data: bytes) -> bytes:
        if not data:
            return data
        if self.after_cr and data[0] == 0:
            data = data[1:]
        self.after_cr = data.endswith(b"\r")  # a CR still waiting for its NUL (or LF) in the next chunk
        if b"\r\x00" in data:
            data = data.replace(b"\r\x00", b"\r")
        return data


@dataclass(frozen=True)
class Command:
    """A Telnet command seen in the stream: verb (DO/DONT/WILL/WONT or a bare IAC command byte), option, SB payload."""

    verb: int
    opt: int | None = None
    payload: bytes = b""


class NvtParser:
    """Incremental parser of a received Telnet stream: separates data from commands and subnegotiations.

    `feed(chunk)` returns (data, commands). Partial sequences at a chunk end are kept for the next call.
    With `strip_cr_nul` the NUL of CR NUL is removed from the data (use it while BINARY is off).
    """

    _DATA, _IAC, _VERB, _SB, _SB_IAC = range(5)

    def __init__(self, strip_cr_nul: bool = True) -> None:
        self.strip_cr_nul = strip_cr_nul
        self._state = self._DATA
        self._verb = 0
        self._sb = bytearray()
        self._crnul = CrNulFilter()

    def feed(self, chunk: bytes) -> tuple[bytes, list[Command]]:
        out = bytearray()
        cmds: list[Command] = []
        i, n = 0, len(chunk)
        while i < n:
            st = self._state
            if st == self._DATA:
                j = chunk.find(b"\xff", i)
                if j == -1:
                    out += chunk[i:]
                    break
                out += chunk[i:j]
                self._state = self._IAC
                i = j + 1
                continue
            b = chunk[i]
            i += 1
            if st == self._IAC:
                if b == IAC:
                    out.append(IAC)
                    self._state = self._DATA
                elif b in (DO, DONT, WILL, WONT):
                    self._verb = b
                    self._state = self._VERB
                elif b == SB:
                    self._sb.clear()
                    self._state = self._SB
                else:
                    cmds.append(Command(b))
                    self._state = self._DATA
            elif st == self._VERB:
                cmds.append(Command(self._verb, b))
                self._state = self._DATA
            elif st == self._SB:
                if b == IAC:
                    self._state = self._SB_IAC
                else:
                    self._sb.append(b)
                    if len(self._sb) > 4096:  # a runaway subnegotiation: drop it
                        self._sb.clear()
                        self._state = self._DATA
            else:  # _SB_IAC
                if b == IAC:
                    self._sb.append(IAC)
                    self._state = self._SB
                elif b == SE:
                    if self._sb:
                        cmds.append(Command(SB, self._sb[0], bytes(self._sb[1:])))
                    self._sb.clear()
                    self._state = self._DATA
                else:  # malformed: IAC <x> inside SB ends it
                    self._sb.clear()
                    self._state = self._DATA
        data = bytes(out)
        if self.strip_cr_nul:
            data = self._crnul.feed(data)
        return data, cmds
