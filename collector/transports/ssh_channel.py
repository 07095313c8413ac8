"""A paramiko channel as a byte pipe: read with a timeout (end of stream raises), write all, alive, close.

Used for the device's pty shell and for a jump host's shell; knows bytes only.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import paramiko

from ..errors import ConnectionLost
from .ssh_auth import describe

#: interactive reads stay at 64 KiB: with a 2 MiB window paramiko's per-recv backlog memmove is cheap, and
#: the session's per-read copies stay small (the 64 MiB RSS budget); exec mode reads 1 MiB (ssh_exec.py)
READ_SIZE = 64 << 10
#: a write gives up when the peer's window stays closed this long
WRITE_STALL_TIMEOUT = 120.0
CLOSE_WAIT = 5.0  # a polite close that takes longer is cut at the socket


def bounded_close(close: Callable[[], None], transport: paramiko.Transport | None, what: str) -> None:
    """Run paramiko's polite `close` for at most CLOSE_WAIT seconds; past that, close the socket under it.

    An interrupt (Ctrl-C/SIGTERM raised in the main thread) can land inside paramiko's locking and leave its
    send path waiting forever; closing must never hang a run that is stopping (seen: Channel.close stuck)."""
    def polite() -> None:
        with contextlib.suppress(Exception):
            close()

    worker = threading.Thread(target=polite, name=f"ssh-close-{what}", daemon=True)
    worker.start()
    worker.join(CLOSE_WAIT)
    if worker.is_alive() and transport is not None:
        with contextlib.suppress(Exception):
            transport.active = False  # type: ignore[attr-defined]  # paramiko keeps it as a plain attribute
            transport.sock.close()


class ChannelPipe:
    """Reads and writes one interactive channel; `label` names it in errors ("ssh ops@host")."""

    def __init__(self, chan: paramiko.Channel, label: str) -> None:
        self.chan = chan
        self.label = label

    def _lost(self, why: str) -> ConnectionLost:
        status = ""
        if self.chan.exit_status_ready():
            status = f" (remote exit status {self.chan.recv_exit_status()})"
        return ConnectionLost(f"{self.label}: {why}{status}")

    def read(self, timeout: float | None) -> bytes:
        chan = self.chan
        chan.settimeout(timeout)
        try:
            data = chan.recv(READ_SIZE)
        except TimeoutError:
            if not self.alive():
                raise self._lost("connection closed") from None
            return b""
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._lost(f"connection failed ({describe(exc)})") from None
        if not data:
            raise self._lost("end of stream")
        return data

    def write(self, data: bytes) -> None:
        chan = self.chan
        # Not Channel.sendall: its waits use the channel timeout that read() sets (possibly 0 from another
        # thread), which would cut a write short. Send only into open window; wait for window ourselves.
        sent = 0
        deadline: float | None = None
        try:
            while sent < len(data):
                if chan.send_ready():
                    n = chan.send(data[sent : sent + 65536])
                    if n <= 0:  # end of input already sent, or closing
                        raise self._lost("the channel no longer accepts input")
                    sent += n
                    deadline = None
                    continue
                if chan.closed or not self.alive():
                    raise self._lost("connection closed while sending")
                now = time.monotonic()
                deadline = deadline or now + WRITE_STALL_TIMEOUT
                if now > deadline:
                    raise self._lost(f"the peer has not accepted input for {WRITE_STALL_TIMEOUT:g} s")
                time.sleep(0.005)  # window full: the device is not reading (rare; never on the read path)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._lost(f"cannot send ({describe(exc)})") from None

    def alive(self) -> bool:
        chan = self.chan
        if chan.closed:
            return False
        t = chan.get_transport()
        return t is not None and t.is_active() and not (chan.eof_received and not chan.recv_ready())

    def close(self) -> None:
        bounded_close(self.chan.close, self.chan.get_transport(), "channel")
