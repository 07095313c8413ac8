"""One connected call of the emulated modem: the device's inbox and the throttled, droppable path to the DTE.

What a real line does to the bytes: a rate (10 bits a byte at 8N1), and a carrier that drops after N bytes or
N seconds of the call (the emulator's `drop_after_bytes` / `drop_after_seconds`, read live).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

PIECE_SECONDS = 0.02  # the line is fed in 20 ms pieces, so the rate holds at any read size


class CallHost(Protocol):
    """What a call needs from the emulator it belongs to."""

    drop_after_bytes: int | None
    drop_after_seconds: float | None

    def write_line(self, call: Call, data: bytes) -> bool:
        """Send to the DTE now, unless the call ended meanwhile (False)."""

    def drop(self, call: Call, why: str) -> None:
        """Carrier lost: end the call, tell the DTE."""


class Call:
    """One connected call."""

    def __init__(self, rate: int | None, connect_text: str = "CONNECT") -> None:
        self.connect_text = connect_text
        self.cond = threading.Condition()
        self.inbox = bytearray()
        self.ended = threading.Event()
        self.online = True
        self.sent = 0
        self.started = time.monotonic()
        self.rate = rate
        self.tx_next = self.started  # when the line is free for the next piece
        self.thread: threading.Thread | None = None

    def due_drop(self, host: CallHost, now: float) -> float | None:
        """Seconds until this call's carrier drops by time (None: never)."""
        limit = host.drop_after_seconds
        return None if limit is None else max(0.0, self.started + limit - now)


class CallChannel:
    """The ByteChannel handed to the simulated device for one call."""

    def __init__(self, host: CallHost, call: Call) -> None:
        self._host = host
        self._call = call

    def recv(self, n: int) -> bytes:
        call = self._call
        with call.cond:
            while not call.inbox and not call.ended.is_set():
                call.cond.wait()
            if not call.inbox:
                return b""
            data = bytes(call.inbox[:n])
            del call.inbox[:n]
            return data

    def sendall(self, data: bytes) -> None:
        send_throttled(self._host, self._call, bytes(data))


def _wait_online(call: Call) -> None:
    with call.cond:
        while not call.online and not call.ended.is_set():
            call.cond.wait()
    if call.ended.is_set():
        raise BrokenPipeError("call ended")


def send_throttled(host: CallHost, call: Call, data: bytes) -> None:
    """Device -> DTE at the call's rate; a carrier drop (bytes or seconds) ends the call mid-write."""
    rate = (call.rate / 10.0) if call.rate else None  # 10 bits per byte on an async 8N1 line
    piece_max = max(1, int(rate * PIECE_SECONDS)) if rate else 65536
    pos = 0
    while pos < len(data):
        _wait_online(call)
        n = min(piece_max, len(data) - pos)
        if host.drop_after_bytes is not None:
            n = min(n, host.drop_after_bytes - call.sent)
            if n <= 0:
                host.drop(call, "bytes")
                raise BrokenPipeError("carrier dropped")
        if rate:
            delay = call.tx_next - time.monotonic()
            if delay > 0 and call.ended.wait(delay):
                raise BrokenPipeError("call ended")
        if call.due_drop(host, time.monotonic()) == 0.0:
            host.drop(call, "seconds")
            raise BrokenPipeError("carrier dropped")
        if not host.write_line(call, data[pos : pos + n]):
            raise BrokenPipeError("call ended")
        call.sent += n
        pos += n
        if rate:
            call.tx_next = max(call.tx_next, time.monotonic() - PIECE_SECONDS) + n / rate
        if host.drop_after_bytes is not None and call.sent >= host.drop_after_bytes:
            host.drop(call, "bytes")
            if pos < len(data):
                raise BrokenPipeError("carrier dropped")
