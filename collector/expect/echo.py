"""Finding the echo of a typed command in what a device sent back: one rule for every reader.

Devices echo what was typed (sometimes after asynchronous log lines); the echo line ends at the next LF.
"""

from __future__ import annotations

ECHO_HEAD = 24  # characters of the command looked for: long commands wrap or get redrawn by some CLIs


def echo_key(command: str) -> bytes:
    """The bytes that identify a command's echo (its first characters)."""
    return command.encode()[:ECHO_HEAD]


def find_echo(buf: bytes | bytearray, command: str, start: int = 0) -> tuple[int, int] | None:
    """(start of the echo line, end of the echo line including its LF), or None while not complete."""
    key = echo_key(command)
    at = buf.find(key, start) if key else -1
    if at == -1:
        return None
    nl = buf.find(b"\n", at)
    if nl == -1:
        return None
    line_start = buf.rfind(b"\n", 0, at) + 1
    return line_start, nl + 1
