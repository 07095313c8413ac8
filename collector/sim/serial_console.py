"""A simulated serial console: a SimDevice served on a pty pair; the collector opens `path` as serial://.

Optional line-rate throttle, and a `rommon` mode that only shows `rommon N >` (a router stuck in ROMMON).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tty
from typing import Any

from .events import EventLog
from .fakemodem import FdLink


class _ConsoleChannel:
    """ByteChannel over the pty master: recv blocks for typed bytes, sendall paces to the line rate."""

    def __init__(self, console: SimSerialConsole) -> None:
        self._c = console
        self._tx_next = time.monotonic()

    def recv(self, n: int) -> bytes:
        c = self._c
        while not c.pending_input:
            data = c.link.recv(None)
            if data is None or c.closing.is_set():
                return b""
            c.pending_input = data
        data, c.pending_input = c.pending_input[:n], c.pending_input[n:]
        return data

    def sendall(self, data: bytes) -> None:
        rate = self._c.throttle_bps / 10.0 if self._c.throttle_bps else None
        step = max(1, int(rate / 50)) if rate else len(data) or 1
        for pos in range(0, len(data), step):
            piece = data[pos : pos + step]
            if rate:
                delay = self._tx_next - time.monotonic()
                if delay > 0 and self._c.closing.wait(delay):
                    raise BrokenPipeError("console closed")
                self._tx_next = max(self._tx_next, time.monotonic() - 0.02) + len(piece) / rate
            self._c.link.send(piece)


class SimSerialConsole:
    """`with SimSerialConsole(profile) as con: SerialTransport(parse_target(f"serial://{con.path}"))`.

    The device is served again after every logout, like a real console port; `close()` stops it.
    """

    def __init__(
        self,
        profile: Any = None,
        events: EventLog | None = None,
        *,
        throttle_bps: int | None = None,
        rommon: bool = False,
        device: Any = None,
    ) -> None:
        self.events = events if events is not None else EventLog()
        if device is None and not rommon:
            from .device import SimDevice

            device = SimDevice(profile, self.events)
        self.device = device
        self.throttle_bps = throttle_bps
        self.rommon = rommon
        self.closing = threading.Event()
        self.pending_input = b""
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self.link = FdLink(master, extra_fds=(slave,))
        self._thread = threading.Thread(target=self._run, name="sim-serial-console", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self.closing.is_set():
                chan = _ConsoleChannel(self)
                try:
                    if self.rommon:
                        self._rommon(chan)
                    else:
                        self.device.serve(chan)
                except OSError:
                    pass
        finally:
            self.link.release()

    def _rommon(self, chan: _ConsoleChannel) -> None:
        n = 1
        line = bytearray()
        while True:
            data = chan.recv(1024)
            if not data:
                return
            chan.sendall(data.replace(b"\r", b"\r\n"))  # echo
            for b in data:
                if b in (13, 10):
                    self.events.record("command", command=line.decode("latin-1"), mode="rommon")
                    if line.strip():
                        chan.sendall(b'monitor: command "' + bytes(line) + b'" not found\r\n')
                        n += 1
                    line.clear()
                    chan.sendall(f"rommon {n} > ".encode())
                else:
                    line.append(b)

    def close(self) -> None:
        self.closing.set()
        self.link.close()
        self._thread.join(5)
        with contextlib.suppress(OSError):
            self.link.release()

    def __enter__(self) -> SimSerialConsole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
