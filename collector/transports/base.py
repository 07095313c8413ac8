"""The transport interface: bytes in, bytes out, nothing about prompts or commands.

Every transport (SSH, Telnet, serial, modem) implements this small protocol.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..credentials import Credentials
from ..secrets import Secret
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
    #: per-hop credentials: a hop's display (``ssh://user@host[:port]``), host, ``host:port`` or ssh_config alias
    #: mapped to Credentials, or to a Secret (a password only); other hops use the device's with the hop's user
    hop_credentials: dict[str, Credentials | Secret] = field(default_factory=dict)


@dataclass
class ExecResult:
    """One exec-channel command's outcome. `bytes` counts what went to on_data (stdout, plus merged stderr)."""

    exit_status: int | None  # None when the command was cut off or the server sent no status
    bytes: int
    timed_out: bool
    timeout_reason: str | None = None  # "idle" | "max_time"
    duration: float = 0.0
    stderr: builtins.bytes = b""  # only when stderr is kept apart (bounded)
    stderr_bytes: int = 0


class ExecRunner(Protocol):
    """Runs one command on its own channel (no pty), handing every chunk to on_data as it arrives."""

    def run(self, command: str, on_data: Callable[[bytes], None], idle_timeout: float,
            max_time: float | None = None) -> ExecResult: ...


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
    def return_key(self) -> bytes | None:
        """The bytes of the Return key when the transport knows better than the platform (Telnet BINARY)."""
        return None

    def exec_runner(self) -> ExecRunner | None:
        """Exec channels (one command each, no pty) where the protocol has them; None elsewhere."""
        return None

    @property
    def line_rate(self) -> int | None:
        """Bits per second when the link is a slow line (serial/modem), else None."""
        return None

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
