"""The interface every benchmark tool adapter implements, and what a tool delivers for one command.

Adapters: tools.py (collector, bare paramiko), tool_peers.py (the OpenSSH client, netmiko, scrapli).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .sshd_host import BenchHost

#: how long a big command may stay silent before a tool gives up (the pty output never pauses that long)
IDLE = 60.0


@dataclass
class Capture:
    """What a tool delivered for one command: bytes and SHA-256 of the text the user gets."""

    bytes: int
    sha256: str


def _hash_text(text: str) -> Capture:
    data = text.encode("utf-8", "surrogateescape")
    return Capture(len(data), hashlib.sha256(data).hexdigest())


class Tool:
    """The interface every adapter implements; `cases` says which measurements it takes part in."""

    name = "tool"
    cases: tuple[str, ...] = ("big", "many", "connect")

    def __init__(self, host: BenchHost, workdir: Path) -> None:
        self.host = host
        self.workdir = workdir

    def connect(self) -> None:
        raise NotImplementedError

    def run(self, command: str, timeout: float) -> Capture:
        raise NotImplementedError

    def run_many(self, commands: list[str]) -> int:
        """Run each command in turn on the open session; returns the total bytes delivered."""
        return sum(self.run(c, 30.0).bytes for c in commands)

    def close(self) -> None:
        raise NotImplementedError


