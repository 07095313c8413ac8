"""A reader thread that drains a descriptor (a pty master) into a bounded buffer, so the writer never waits for us.

A pty passes at most ~4 KiB per read and blocks its writer when that much is waiting: draining it in a thread
while the session works on the previous bytes is what lets a program on a pty run at the pty's own speed.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading

CHUNK = 65536
LIMIT = 4 << 20  # bytes held before the thread stops reading (back-pressure to the program)


class FdPump:
    """`take(timeout)`: bytes read so far (b'' when none came in time; None once the descriptor ended)."""

    def __init__(self, fd: int, *, limit: int = LIMIT) -> None:
        self.fd = fd
        self.limit = limit
        self._buf = bytearray()
        self._ended = False
        self._stop = False
        self._cond = threading.Condition()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"fd-pump-{fd}", daemon=True)
        self._thread.start()

    def take(self, timeout: float | None, most: int = CHUNK) -> bytes | None:
        with self._cond:
            if not self._buf and not self._ended:
                self._cond.wait(timeout)
            if self._buf:
                data = bytes(self._buf[:most])
                del self._buf[:most]
                self._cond.notify_all()
                return data
            return None if self._ended else b""

    def stop(self) -> None:
        """End the thread (the descriptor stays open: the caller closes it after this returns)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(5)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        while True:
            with self._cond:
                while len(self._buf) >= self.limit and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
            ready, _, _ = select.select([self.fd, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self.fd, CHUNK)
            except OSError:  # EIO: every holder of the other side has closed it
                data = b""
            with self._cond:
                if data:
                    self._buf += data
                else:
                    self._ended = True
                self._cond.notify_all()
            if not data:
                return
