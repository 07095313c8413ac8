"""The Hayes command language of the emulated modem: AT lines into commands, result codes, the `+++` escape.

Pure parsing and timing rules; the emulator (sim/modem.py) applies what they say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..transports.dial_policy import NUMERIC_CONNECT

NUMERIC_RESULTS = {"OK": 0, "CONNECT": 1, "RING": 2, "NO CARRIER": 3, "ERROR": 4, "NO DIALTONE": 6,
                   "NO DIAL TONE": 6, "BUSY": 7, "NO ANSWER": 8}  # fmt: skip
_RATE_CODES = {rate: code for code, rate in sorted(NUMERIC_CONNECT.items(), reverse=True)}
_KNOWN = set("ABEHILMNOQVWXZ")
_KNOWN_AMP = set("CDFHKRSVWY")


@dataclass(frozen=True)
class AtCommand:
    """One command of an AT line: `E` 0, `&D` 2, `S` (register, value or None to read), `D` (number)."""

    name: str
    digits: str = ""  # the argument as typed ("" when none)
    register: int | None = None
    value: int | None = None
    number: str = ""

    @property
    def arg(self) -> int:
        return int(self.digits) if self.digits else 0


def parse(body: str) -> tuple[list[AtCommand], bool]:
    """The commands after `AT` (spaces ignored) and whether the whole line parsed; parsing stops at an error.

    A dial command (`D`) takes the rest of the line as its number, as real modems do.
    """
    compact = body.replace(" ", "")
    out: list[AtCommand] = []
    i = 0
    while i < len(compact):
        c = compact[i]
        if c == "D":
            out.append(AtCommand("D", number=body[body.index("D") + 1 :].strip()))
            return out, True
        if c == "S":
            m = re.match(r"S(\d+)(=(\d*)|\?)", compact[i:])
            if not m:
                return out, False
            value = int(m.group(3) or 0) if m.group(3) is not None else None
            out.append(AtCommand("S", register=int(m.group(1)), value=value))
        elif c == "+":  # extended commands (+FCLASS=0;...): accepted and ignored
            end = compact.find(";", i)
            i = len(compact) if end < 0 else end + 1
            continue
        else:
            m = re.match(r"&([A-Z])(\d*)" if c == "&" else r"([A-Z])(\d*)", compact[i:])
            known = _KNOWN_AMP if c == "&" else _KNOWN
            if not m or m.group(1) not in known:
                return out, False
            out.append(AtCommand(("&" if c == "&" else "") + m.group(1), m.group(2)))
        i += m.end()
    return out, True


def numeric_code(text: str) -> int | None:
    """The V0 (numeric) form of a verbose result, e.g. CONNECT 9600 -> 12."""
    up = text.upper()
    m = re.match(r"^CONNECT\s+(\d+)", up)
    if m:
        return _RATE_CODES.get(int(m.group(1)), 1)
    return NUMERIC_RESULTS.get(up)


def result_bytes(text: str, numeric: bool) -> bytes:
    """A result code as sent on the line: `\\r\\nTEXT\\r\\n` (V1) or `N\\r` (V0)."""
    if numeric:
        code = numeric_code(text)
        if code is not None:
            return f"{code}\r".encode()
    return f"\r\n{text}\r\n".encode()


class PlusEscape:
    """`+++` with guard times: silence before, three `+` within the guard time, silence after (S2, S12)."""

    def __init__(self) -> None:
        self.count = 0
        self.at = 0.0
        self.last_rx = 0.0

    def reset(self, now: float) -> None:
        self.count, self.last_rx = 0, now

    def feed(self, data: bytes, now: float, plus: int, guard: float) -> bytes:
        """Bytes for the device (pending `+` held back while they may still be an escape)."""
        out = bytearray()
        for b in data:
            if b == plus and plus <= 127:
                if self.count == 0 and now - self.last_rx >= guard:
                    self.count, self.at = 1, now
                elif 0 < self.count < 3 and now - self.at <= guard:
                    self.count, self.at = self.count + 1, now
                else:
                    out += b"+" * self.count + bytes([b])
                    self.count = 0
            else:
                out += b"+" * self.count + bytes([b])
                self.count = 0
            self.last_rx = now
        return bytes(out)

    def wait(self, now: float, guard: float) -> float | None:
        """Seconds until the guard time after held `+` runs out (None when none are held)."""
        return max(0.0, self.at + guard - now) if self.count else None

    def due(self, now: float, guard: float) -> tuple[bool, bytes]:
        """After the guard time: (True, b"") for a complete escape, else (False, the held `+` for the device)."""
        if not self.count or now - self.at < guard:
            return False, b""
        count, self.count = self.count, 0
        return (True, b"") if count == 3 else (False, b"+" * count)
