"""Limits that protect shared infrastructure while many devices log in at once.

- logins per SSH/Telnet endpoint we open a TCP connection to (a jump host, or the device itself): sshd's
  MaxStartups drops unauthenticated connections beyond 10 by default, so a DMZ host sees at most N at a time;
- logins per AAA server group (TACACS+/RADIUS lockouts and rate limits);
- one call at a time per line (a modem, a serial port, a console server port): the executor never starts two
  devices that need the same line.
A login slot is held from the TCP connect to the first prompt (and again for every reconnect), not for the run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..target import parse_target
from .job import DeviceJob

DEFAULT_LOGINS_PER_HOST = 8
DEFAULT_LOGINS_PER_AAA = 10
WAIT_SLICE = 0.2


def endpoint(job: DeviceJob) -> str | None:
    """The host:port the first TCP connection goes to (the nearest jump host, else the device)."""
    url = job.jumps[0] if job.jumps else job.target
    t = parse_target(url)
    if t.scheme in ("serial", "modem"):
        return None
    return f"{t.host}:{t.port}"


def line_of(target: str) -> str | None:
    """The exclusive line a target occupies: a modem's or serial port's device path, a console server port."""
    t = parse_target(target)
    if t.scheme in ("serial", "modem"):
        return t.path
    if t.scheme in ("rfc2217", "socket"):
        return f"{t.scheme}://{t.host}:{t.port}"
    return None


@dataclass
class _Slot:
    limit: int
    cond: threading.Condition = field(default_factory=threading.Condition)
    used: int = 0
    peak: int = 0


class Limits:
    """Counting slots per resource key; `gate(job)` is the runner's login gate for that device."""

    def __init__(self, per_host: int = DEFAULT_LOGINS_PER_HOST, per_aaa: int = DEFAULT_LOGINS_PER_AAA,
                 stop: threading.Event | None = None) -> None:
        self.per_host = max(1, per_host)
        self.per_aaa = max(1, per_aaa)
        self.stop = stop or threading.Event()
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()

    def keys(self, job: DeviceJob) -> list[tuple[str, int]]:
        out = []
        host = endpoint(job)
        if host:
            out.append((f"host:{host}", self.per_host))
        if job.aaa:
            out.append((f"aaa:{job.aaa}", self.per_aaa))
        return sorted(out)  # one global order: two devices never wait for each other's second slot

    def _slot(self, key: str, limit: int) -> _Slot:
        with self._lock:
            return self._slots.setdefault(key, _Slot(limit))

    def peak(self, key: str) -> int:
        """The most logins that were ever in progress at once on this key (host:H:P or aaa:GROUP)."""
        with self._lock:
            slot = self._slots.get(key)
        return slot.peak if slot else 0

    def _acquire(self, slot: _Slot) -> None:
        with slot.cond:
            while slot.used >= slot.limit:
                if self.stop.is_set():
                    raise KeyboardInterrupt("the fleet is stopping")
                slot.cond.wait(WAIT_SLICE)
            slot.used += 1
            slot.peak = max(slot.peak, slot.used)

    @staticmethod
    def _release(slot: _Slot) -> None:
        with slot.cond:
            slot.used -= 1
            slot.cond.notify()

    @contextlib.contextmanager
    def hold(self, job: DeviceJob) -> Iterator[None]:
        held: list[_Slot] = []
        try:
            for key, limit in self.keys(job):
                slot = self._slot(key, limit)
                self._acquire(slot)
                held.append(slot)
            yield
        finally:
            for slot in reversed(held):
                self._release(slot)

    def gate(self, job: DeviceJob) -> contextlib.AbstractContextManager[None]:
        return self.hold(job)

