"""The transport interface: bytes in, bytes out, nothing about prompts or commands.

Every transport (SSH, Telnet, serial, modem) implements this small protocol.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from ..credentials import Credentials
from ..target import Target

READ_SIZE = 65536


@dataclass
class ConnectOptions:
    """Everything a transport needs besides the target: credentials and policies."""

    credentials: Credentials = field(default_factory=Credentials)
    connect_timeout: float = 15.0
    accept_new_host_key: bool = False
    known_hosts: str | None = None  # collector's own known_hosts file (read/write)
    system_known_hosts: str | None = "~/.ssh/known_hosts"  # read-only
    legacy_algorithms: bool = False
    use_agent: bool = False
    look_for_keys: bool = False
    term: str = "vt100"
    width: int = 511
    height: int = 0
    jumps: list[Target] = field(default_factory=list)
    jump_mode: str = "direct"  # direct (direct-tcpip) | shell
    ssh_config: str | None = "~/.ssh/config"
    extra: dict[str, Any] = field(default_factory=dict)


class Transport(abc.ABC):
    """A byte pipe to a device. `read` never returns b'' for end of stream: it raises ConnectionLost."""

    #: what the manifest records about the link (e.g. {"kex": ..., "connect_rate": 9600})
    info: dict[str, Any]

    def __init__(self, target: Target, options: ConnectOptions) -> None:
        self.target = target
        self.options = options
        self.info = {"transport": target.scheme}

    @abc.abstractmethod
    def open(self) -> None:
        """Connect (and authenticate where the protocol does it, like SSH)."""

    @abc.abstractmethod
    def read(self, timeout: float | None) -> bytes:
        """Return the bytes available now (at least one), waiting up to `timeout` seconds.

        Returns b'' only when the timeout passed with nothing to read.
        Raises ConnectionLost at end of stream or on a reset.
        """

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """Send all of `data` (raises ConnectionLost if the link is gone)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close; safe to call twice."""

    @abc.abstractmethod
    def alive(self) -> bool:
        """Cheap local check that the link is still up."""

    def send_break(self) -> None:  # pragma: no cover - overridden where it makes sense
        """Send a BREAK (serial) or its equivalent; default: not supported."""
        raise NotImplementedError(f"{self.target.scheme} cannot send BREAK")

    @property
    def line_rate(self) -> int | None:
        """Bits per second when the link is a slow line (serial/modem), else None."""
        return None

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
