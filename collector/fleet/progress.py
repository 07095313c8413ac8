"""The fleet's shared progress board: per device its state, step, bytes and times, fed by one observer per device.

The observer is also how a stopping fleet interrupts a device: once, at its next byte or step, as Ctrl-C would
(the run then keeps what arrived, runs its cleanup and ends `interrupted`). Never during the device's cleanup.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..runner.observer import RunObserver

ACTIVE = ("waiting", "connecting", "running")


@dataclass
class DeviceProgress:
    name: str
    state: str = "queued"  # queued | waiting | connecting | running | done | failed | not-started
    status: str | None = None  # the run's final status
    step: str = ""
    steps_done: int = 0
    steps_total: int = 0
    bytes: int = 0
    started: float | None = None
    ended: float | None = None
    error: str | None = None

    def elapsed(self, now: float | None = None) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or now or time.monotonic()) - self.started


@dataclass
class Board:
    devices: dict[str, DeviceProgress]
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, names: list[str]) -> Board:
        return cls({n: DeviceProgress(n) for n in names})

    def counts(self) -> dict[str, int]:
        out = {"queued": 0, "running": 0, "done": 0, "failed": 0}
        for d in self.devices.values():
            key = "running" if d.state in ACTIVE else d.state if d.state in out else "failed"
            out[key] += 1
        return out

    def total_bytes(self) -> int:
        return sum(d.bytes for d in self.devices.values())

    def slowest(self) -> DeviceProgress | None:
        """The device running longest right now (or, at the end, the one that took longest)."""
        running = [d for d in self.devices.values() if d.state in ACTIVE]
        pool = running or [d for d in self.devices.values() if d.started is not None]
        return max(pool, key=lambda d: d.elapsed(), default=None)


class DeviceObserver(RunObserver):
    """Feeds the board; raises KeyboardInterrupt once when the fleet stops (while a main step or login runs)."""

    def __init__(self, board: Board, name: str, stop: threading.Event, cleanup_steps: set[int]) -> None:
        self.p = board.devices[name]
        self.stop = stop
        self.cleanup_steps = cleanup_steps
        self.in_step = False
        self.interrupted = False

    def _maybe_stop(self) -> None:
        if self.stop.is_set() and not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt("the fleet is stopping")

    def run_started(self, run_dir: str, target: str, steps: int) -> None:
        self.p.state, self.p.steps_total = "connecting", steps
        self.p.started = self.p.started or time.monotonic()

    def connected(self, info: dict[str, Any], line_rate: int | None = None) -> None:
        self.p.state = "running"
        self._maybe_stop()

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None:
        self.p.step = name
        self.in_step = index not in self.cleanup_steps
        if self.in_step:
            self._maybe_stop()

    def bytes_read(self, n: int) -> None:
        self.p.bytes += n
        if self.in_step:
            self._maybe_stop()

    def step_finished(self, index: int, name: str, status: str, nbytes: int, duration: float) -> None:
        self.in_step = False
        if index not in self.cleanup_steps:
            self.p.steps_done += 1

    def notice(self, message: str) -> None:
        self.in_step = False  # a drop or a cleanup notice: from here on, nothing is interrupted

    def run_finished(self, status: str) -> None:
        self.p.status = status
