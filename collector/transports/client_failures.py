"""What an OpenSSH (or telnet) client prints when it fails, sorted into kinds: host key, login, reach, config, lost.

Shared by the openssh:// transport (ssh's own log) and the jump-host shell (the hop client's lines on its pty).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..expect.text import strip_for_match

Kind = Literal["host_key_changed", "host_key_unknown", "auth", "config", "negotiation", "unreachable", "lost"]

CHANGED = re.compile(
    rb"remote host identification has changed|host key for \S+ has changed|possible dns spoofing detected", re.I)
#: on the client's last line that any of them knows, the first kind (in this order) that matches it wins
RULES: list[tuple[Kind, re.Pattern[bytes]]] = [
    ("host_key_changed", CHANGED),
    ("host_key_unknown", re.compile(
        rb"host key verification failed|no \S+ host key is known for|authenticity of host .{0,300} can't be "
        rb"established", re.I)),
    ("auth", re.compile(
        rb"permission denied|too many authentication failures|authentication failed|no more authentication "
        rb"methods", re.I)),
    ("config", re.compile(
        rb"bad configuration option|terminating, \d+ bad configuration|can't open user config file|bad owner or "
        rb"permissions on|no argument after keyword|keyword \S+ extra arguments|unsupported option", re.I)),
    ("negotiation", re.compile(rb"unable to negotiate with", re.I)),
    ("unreachable", re.compile(
        rb"connection refused|unable to connect to remote host|could not resolve|name or service not known|no route "
        rb"to host|connection timed out|network is unreachable|kex_exchange_identification|ssh_exchange_identification"
        rb"|connection closed by \S+ port|proxycommand|proxy command|posix_spawn", re.I)),
    ("lost", re.compile(
        rb"closed by remote host|closed by foreign host|broken pipe|connection reset|timeout, server .{0,200} not "
        rb"responding|client_loop|packet_write_wait|received disconnect", re.I)),
]


OFFENDING = re.compile(rb"offending \S+ key in \S+", re.I)


@dataclass(frozen=True)
class ClientFailure:
    """A recognised failure: its kind and the client's own line that said so (screen text, one line).

    `where` names the known_hosts entry a changed host key conflicts with (ssh's "Offending ... key in FILE:N").
    """

    kind: Kind
    line: str
    where: str = ""


def screen_lines(text: bytes) -> list[bytes]:
    """The text as lines on a terminal: no escape sequences, CR or NUL; blank lines dropped."""
    return [s for s in (strip_for_match(line) for line in text.splitlines()) if s.strip()]


def printable(line: bytes, limit: int = 200) -> str:
    """One line of program output safe for a one-line message: control characters shown escaped, bounded."""
    text = strip_for_match(line).decode("utf-8", "replace")
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text).strip()
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def classify_client_text(text: bytes) -> ClientFailure | None:
    """The failure a client's output ends with, if any: its last line that any rule knows is the verdict (an
    earlier "Permission denied, please try again" does not outweigh a later drop); a failed host key check is
    "changed" when the client said so before its verdict; a config failure quotes the first bad line."""
    lines = screen_lines(text)
    for line in reversed(lines):
        for kind, pattern in RULES:
            if not pattern.search(line):
                continue
            if kind == "host_key_unknown" and any(CHANGED.search(x) for x in lines):
                offending = next((m.group(0) for x in lines if (m := OFFENDING.search(x))), b"")
                return ClientFailure("host_key_changed", printable(line), printable(offending))
            if kind == "config":  # ssh names the bad line first, then says it is terminating
                line = next(x for x in lines if pattern.search(x))
            return ClientFailure(kind, printable(line))
    return None


def last_line(text: bytes) -> str:
    """The last non-blank line of some output, printable (empty when there is none)."""
    lines = screen_lines(text)
    return printable(lines[-1]) if lines else ""
