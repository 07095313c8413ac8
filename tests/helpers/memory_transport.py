"""An in-process Transport wired to a SimDevice through an in-memory pipe (no sockets).

`read_size=1` replays the device byte by byte, as scrapli 2's tests do, to prove prompt matching is robust.
"""

from __future__ import annotations

import threading

from collector.errors import ConnectionLost
from collector.sim.channel import memory_pair
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile
from collector.target import Target
from collector.transports.base import ConnectOptions, Transport


class MemoryTransport(Transport):
    def __init__(self, profile: DeviceProfile, options: ConnectOptions | None = None, *, read_size: int = 65536,
                 events: EventLog | None = None) -> None:
        super().__init__(Target(scheme="ssh", host="memory"), options or ConnectOptions())
        self.profile = profile
        self.read_size = read_size
        self.events = events if events is not None else EventLog()
        self.info = {"transport": "memory"}
        self._client, self._server = memory_pair()
        self._thread: threading.Thread | None = None
        self.closed = False

    def open(self) -> None:
        device = SimDevice(self.profile, self.events)

        def serve() -> None:
            try:
                device.serve(self._server)
            finally:
                self._server.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()

    def read(self, timeout: float | None) -> bytes:
        if self.closed:
            raise ConnectionLost("closed")
        self._client.settimeout(timeout)
        try:
            data = self._client.recv(self.read_size)
        except TimeoutError:
            return b""
        if not data:
            raise ConnectionLost("the simulated device closed the session")
        return data

    def write(self, data: bytes) -> None:
        try:
            self._client.sendall(data)
        except OSError as exc:
            raise ConnectionLost(str(exc)) from exc

    def close(self) -> None:
        self.closed = True
        self._client.close()

    def alive(self) -> bool:
        return not self.closed
