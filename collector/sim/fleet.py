"""Many simulated devices from one process: each its own port, its own hostname (R1, R2 ...), one shared host key
and transcripts, one accept thread for all their listening sockets; `inventory()` writes them as a CSV.

`collector sim ssh --devices N --inventory FILE` serves them; a fleet run points --inventory at FILE.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import selectors
import threading
from pathlib import Path

import paramiko

from .device import SimDevice
from .events import EventLog
from .profile import DeviceProfile
from .ssh_server import SimSSHServer

MAX_DEVICES = 5000


class SimFleet:
    """`with SimFleet(100) as fleet: fleet.ports ...`; device i is `{prefix}{i}` (1-based)."""

    def __init__(self, count: int, profile: DeviceProfile | None = None, *, prefix: str = "R",
                 users: dict[str, str] | None = None, host: str = "127.0.0.1", host_key: paramiko.PKey | None = None,
                 events: EventLog | None = None) -> None:
        if not 1 <= count <= MAX_DEVICES:
            raise ValueError(f"a simulated fleet has 1 to {MAX_DEVICES} devices")
        self.profile = profile or DeviceProfile()
        self.events = events if events is not None else EventLog()
        self.host_key = host_key or paramiko.ECDSAKey.generate()
        base = SimDevice(self.profile, self.events)  # transcripts and command tables are shared
        self.servers: list[SimSSHServer] = []
        for i in range(1, count + 1):
            name = f"{prefix}{i}"
            device = copy.copy(base)
            device.profile = self.profile.model_copy(update={"hostname": name})
            self.servers.append(SimSSHServer(device.profile, host=host, users=users, host_key=self.host_key,
                                             events=self.events, device=device))
        self._selector: selectors.BaseSelector | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def names(self) -> list[str]:
        return [s.profile.hostname for s in self.servers]

    @property
    def ports(self) -> list[int]:
        return [s.port for s in self.servers]

    @property
    def fingerprint(self) -> str:
        return self.servers[0].fingerprint

    def start(self) -> SimFleet:
        sel = selectors.DefaultSelector()
        for server in self.servers:
            sock = server.bind()
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ, server)
        self._selector = sel
        self._thread = threading.Thread(target=self._accept_loop, name="sim-fleet-accept", daemon=True)
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        sel = self._selector
        assert sel is not None
        while not self._stop.is_set():
            for key, _ in sel.select(0.2):
                server: SimSSHServer = key.data
                try:
                    conn, addr = key.fileobj.accept()  # type: ignore[union-attr]
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    with contextlib.suppress(KeyError, ValueError):
                        sel.unregister(key.fileobj)
                    continue
                conn.setblocking(True)
                server.serve_connection(conn, addr)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._selector is not None:
            self._selector.close()
        for server in self.servers:
            server.stop()

    def __enter__(self) -> SimFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inventory(self, path: Path, *, user: str = "admin", password_env: str | None = None,
                  enable_env: str | None = None, groups_of: int = 10) -> Path:
        """A CSV inventory of the devices (groups g1, g2 ... of `groups_of` devices each)."""
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["name", "target", "platform", "groups", "password_env", "enable_env"])
            for i, server in enumerate(self.servers):
                w.writerow([server.profile.hostname, f"ssh://{user}@{server.host}:{server.port}",
                            self.profile.platform, f"g{i // max(1, groups_of) + 1}", password_env or "",
                            enable_env or ""])
        return path

