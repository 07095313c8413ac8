"""What a step fetched by pieces costs on the line: calls, drops, redial waits, bytes received twice, goodput.

The same ledger gives the progress snapshot (bytes, rate, drops, ETA from the measured rate and drop interval).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LineProgress:
    """One progress report of a step fetched by pieces (the observer draws it)."""

    step: int
    name: str
    fetched: int  # bytes kept so far
    expected: int | None  # the step's size when known (staged), else an estimate (sections), else None
    rate: float | None  # bytes/s while receiving
    drops: int
    calls: int
    drop_interval: float | None  # mean seconds a call lasted before it dropped
    eta: float | None  # seconds
    pieces_done: int
    pieces_total: int | None


def eta_seconds(remaining: int, rate: float | None, drops: int, drop_interval: float | None,
                redial: float, lost_per_drop: float) -> float | None:
    """Transfer time at the measured rate, plus, for each drop expected meanwhile (one per drop interval of
    transfer), the measured redial wait and the bytes a drop costs again."""
    if rate is None or rate <= 0:
        return None
    transfer = max(0, remaining) / rate
    if not drops or not drop_interval:
        return transfer
    further = transfer / max(drop_interval, 1e-3)
    return transfer + further * (redial + lost_per_drop / rate)


@dataclass
class LineLedger:
    """Measures one step: call it as pieces arrive, drops happen and calls come back."""

    clock: Callable[[], float] = time.monotonic
    started: float = 0.0
    call_started: float = 0.0
    calls: int = 1
    drops: int = 0
    redial_seconds: float = 0.0
    received: int = 0  # output bytes received, more than once for what was fetched again
    busy: float = 0.0  # seconds spent receiving
    up_times: list[float] = field(default_factory=list)
    _dropped_at: float | None = None

    def __post_init__(self) -> None:
        self.started = self.call_started = self.clock()

    def piece(self, nbytes: int, seconds: float) -> None:
        """A piece (or an interrupted try of one) delivered `nbytes` in `seconds`."""
        self.received += max(0, nbytes)
        self.busy += max(0.0, seconds)

    def dropped(self) -> None:
        now = self.clock()
        self.drops += 1
        self.up_times.append(now - self.call_started)
        self._dropped_at = now

    def reconnected(self) -> None:
        now = self.clock()
        if self._dropped_at is not None:
            self.redial_seconds += now - self._dropped_at
            self._dropped_at = None
        self.calls += 1
        self.call_started = now

    @property
    def rate(self) -> float | None:
        return self.received / self.busy if self.busy > 0.05 and self.received else None

    @property
    def drop_interval(self) -> float | None:
        return sum(self.up_times) / len(self.up_times) if self.up_times else None

    def elapsed(self) -> float:
        return self.clock() - self.started

    def progress(self, step: int, name: str, kept: int, expected: int | None, done: int,
                 total: int | None) -> LineProgress:
        redial = self.redial_seconds / self.drops if self.drops else 0.0
        lost = max(0, self.received - kept) / self.drops if self.drops else 0.0
        eta = None if expected is None else eta_seconds(expected - kept, self.rate, self.drops, self.drop_interval,
                                                        redial, lost)
        return LineProgress(step, name, kept, expected, self.rate, self.drops, self.calls, self.drop_interval, eta,
                            done, total)

    def summary(self, kept: int) -> dict[str, Any]:
        """The step-assembled fields: calls, drops, redial waits, received and refetched bytes, goodput."""
        seconds = self.elapsed()
        return {
            "calls": self.calls, "drops": self.drops, "redial_seconds": round(self.redial_seconds, 3),
            "received": self.received, "refetched": max(0, self.received - kept), "seconds": round(seconds, 3),
            "goodput": round(kept / seconds, 1) if seconds > 0 else 0.0,
        }
