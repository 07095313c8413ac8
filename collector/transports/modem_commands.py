"""Command-mode I/O with a Hayes modem: AT lines out, result lines in (CR, LF or CRLF ended), the final result
read through the dial policy table; bytes after a result stay in `rx` for the data mode that follows.
"""

from __future__ import annotations

import re
import time

from ..errors import ConnectionLost
from .dial_policy import Action, ParsedLine, parse_line
from .serial import SerialTransport

_TERM = re.compile(rb"\r\n|\r|\n")


class ModemCommands:
    """The modem's command channel on a serial line: `command("ATZ")` → its final result line (or None)."""

    def __init__(self, line: SerialTransport, numeric: dict[int, int] | None, timeout: float) -> None:
        self.line = line
        self.numeric = numeric  # the profile's numeric result codes (ATV0) and what they mean
        self.timeout = timeout
        self.rx = bytearray()  # bytes read and not yet consumed as lines
        self.last_term = b""  # how the last line ended (a CONNECT line ended by CR may leave its LF behind)

    def next_line(self, deadline: float) -> str | None:
        """The next non-empty line before `deadline` (monotonic), or None."""
        while True:
            while True:
                m = _TERM.search(self.rx)
                if m is None or m.start() > 0:
                    break
                del self.rx[: m.end()]
            if m is not None:
                text = bytes(self.rx[: m.start()]).decode("latin-1")
                self.last_term = m.group(0)
                del self.rx[: m.end()]
                return text
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.rx += self.line.read(left)

    def command(self, command: str, timeout: float | None = None, send: bool = True,
                no_carrier_ok: bool = False) -> ParsedLine | None:
        """Send `command` + CR; the final result line, or None when none came in time."""
        if send:
            self.rx.clear()
            self.line.write(command.encode("ascii") + b"\r")
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            text = self.next_line(deadline)
            if text is None:
                return None
            parsed = parse_line(text, self.numeric)
            if parsed.kind == "final" and parsed.rule is not None and parsed.rule.action != Action.IGNORE:
                if parsed.rule.code == "NO CARRIER" and not no_carrier_ok and not command.upper().startswith("ATH"):
                    continue  # a late report of a call that just ended; wait for this command's result
                return parsed

    def probe_ok(self) -> bool:
        """`AT` answered `OK`: the modem is in command mode."""
        try:
            reply = self.command("AT", timeout=min(self.timeout, 2.0))
        except ConnectionLost:
            return False
        return reply is not None and reply.action == Action.OK


__all__ = ["ModemCommands"]
