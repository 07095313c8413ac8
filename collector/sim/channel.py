"""The byte pipe every simulator front end hands to SimDevice.serve, plus an in-memory pair for tests.

A paramiko Channel already satisfies ByteChannel; Telnet and serial front ends adapt theirs.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class ByteChannel(Protocol):
    def recv(self, n: int) -> bytes:
        """Block until at least one byte arrives; b"" means the client left."""
        ...

    def sendall(self, data: bytes) -> None:
        """Send every byte; raise OSError when the client left."""
        ...


class _Buffer:
    """One direction of an in-memory pipe (bounded only by memory; tests read what they write)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.data = bytearray()
        self.closed = False


class MemoryChannel:
    """One end of an in-memory duplex pipe; see `memory_pair()`."""

    def __init__(self, inbox: _Buffer, outbox: _Buffer) -> None:
        self._in = inbox
        self._out = outbox
        self.timeout: float | None = None

    def settimeout(self, timeout: float | None) -> None:
        self.timeout = timeout

    def recv(self, n: int) -> bytes:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._in.cond:
            while not self._in.data and not self._in.closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("recv timed out")
                self._in.cond.wait(left)
            chunk = bytes(self._in.data[:n])
            del self._in.data[:n]
            return chunk

    def sendall(self, data: bytes) -> None:
        with self._out.cond:
            if self._out.closed:
                raise BrokenPipeError("the other end closed")
            self._out.data += data
            self._out.cond.notify_all()

    def pending(self) -> int:
        with self._in.cond:
            return len(self._in.data)

    def close(self) -> None:
        for buf in (self._in, self._out):
            with buf.cond:
                buf.closed = True
                buf.cond.notify_all()


def memory_pair() -> tuple[MemoryChannel, MemoryChannel]:
    """(client, server) ends of a duplex in-memory pipe; closing either end ends both directions."""
    a, b = _Buffer(), _Buffer()
    return MemoryChannel(a, b), MemoryChannel(b, a)


class SocketChannel:
    """Adapts a connected socket (e.g. a raw TCP or pty-bridge front end) to ByteChannel."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def recv(self, n: int) -> bytes:
        try:
            return self.sock.recv(n)
        except ConnectionResetError:
            return b""

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)
