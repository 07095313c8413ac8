"""Composite commands by their parts: the section list from the device's header lines, the sections an
interrupted whole-command output already holds, and the checks every section command passes before it is sent.

Pure functions; the section list is device text, so each command must look like a plain show command and pass
the read-only guard before it can become a command.
"""

from __future__ import annotations

import re
from typing import Protocol

from ..platforms import CompositeCommand, Platform
from ..playbook.guard import check_command

MAX_SECTIONS = 5000


class Searchable(Protocol):
    """bytes or mmap: sliced and searched."""

    def find(self, sub: bytes, start: int = ..., /) -> int: ...

    def __getitem__(self, key: slice, /) -> bytes: ...


SAFE_COMMAND = re.compile(r"^[A-Za-z][\w .:/,()+\-]{0,199}$")  # no pipes, quotes, redirections or control bytes


def section_commands(listing: bytes, spec: CompositeCommand) -> list[str]:
    """The section commands named by header lines in `listing` (the list command's output), in order."""
    header = re.compile(spec.header)
    out: list[str] = []
    for line in listing.decode("utf-8", "replace").splitlines():
        m = header.match(line.strip("\r"))
        if m:
            out.append(" ".join(m.group("command").split()))
    return out


def unusable(commands: list[str], spec: CompositeCommand, platform: Platform) -> str | None:
    """Why these sections cannot be fetched one by one (None when they can)."""
    if not commands:
        return "the device listed no sections"
    if len(commands) > MAX_SECTIONS:
        return f"the device listed {len(commands)} sections (more than {MAX_SECTIONS})"
    for command in commands:
        if not SAFE_COMMAND.match(command):
            return f"section {command[:80]!r} does not look like a plain show command"
        if platform.composite_for(command) is not None:
            return f"section {command!r} is itself a composite command"
        verdict = check_command(command, platform)
        if not verdict.allowed:
            return f"section {command!r} is refused by the read-only guard ({verdict.reason})"
    return None


def separator(spec: CompositeCommand, command: str) -> bytes:
    """The bytes before a section's output, as in the whole command's output."""
    return spec.separator.replace("{command}", command).encode()


def received_sections(partial: Searchable, spec: CompositeCommand, commands: list[str]) -> list[tuple[int, int]]:
    """Byte ranges of the leading sections `partial` holds complete (each followed by the next one's separator).

    `partial` is bytes or an mmap of the file (searched in place, never read whole into memory). It must start with
    the first section's separator; the last section seen is incomplete by definition (its end is unknown), so it is
    never reused.
    """
    ranges: list[tuple[int, int]] = []
    first = separator(spec, commands[0]) if commands else b""
    if not commands or partial[: len(first)] != first:
        return ranges
    start = 0
    for current, nxt in zip(commands, commands[1:], strict=False):
        pos = partial.find(separator(spec, nxt), start + len(separator(spec, current)))
        if pos < 0:
            break
        ranges.append((start, pos))
        start = pos
    return ranges
