"""What the parts of the simulator need from each other, as protocols (so no module imports its caller).

`DeviceRole` is what a session asks of its device; `SessionRole` is what dialogs and the debug stream ask of a session.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol

from .cmdtable import Match
from .events import EventLog
from .profile import DeviceProfile
from .shellfiles import ShellFiles
from .style import CliStyle


class DeviceRole(Protocol):
    profile: DeviceProfile
    events: EventLog
    linux: bool
    files: ShellFiles

    def setting(self, name: str) -> str | None: ...

    def set_setting(self, name: str, value: str) -> None: ...

    def resolve(self, line: str, mode: str) -> Match: ...

    def output(self, m: Match) -> Iterator[bytes]: ...

    def output_of(self, command: str) -> Iterator[bytes] | None: ...


class SessionRole(Protocol):
    dev: DeviceRole
    p: DeviceProfile
    style: CliStyle
    username: str
    mode: str
    lock: threading.RLock
    wake: threading.Condition
    closed: bool
    monitor: bool
    debugs: list[str]
    debug_started: float
    debug_seq: int
    flap_done: bool
    at_prompt: bool
    linebuf: str
    page_length: int

    def send(self, data: bytes) -> None: ...

    def text(self, s: str) -> bytes: ...

    def read_key(self) -> int: ...

    def read_line(self, echo: bool, cli: bool = False) -> str: ...

    def prompt(self) -> str: ...



__all__ = ["DeviceRole", "SessionRole"]
