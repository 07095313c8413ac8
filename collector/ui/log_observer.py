"""The run's progress as log records (for -v and --log-file), and a fan-out to several observers.

Log text is cleaned of terminal controls; secrets are masked by the log handlers' filter (cli/logs.py).
"""

from __future__ import annotations

import logging
from typing import Any

from ..runner.observer import RunObserver
from .console import clean

log = logging.getLogger("collector.run")


class LoggingObserver(RunObserver):
    def run_started(self, run_dir: str, target: str, steps: int) -> None:
        log.info("run %s against %s (%d steps)", run_dir, clean(target), steps)

    def connected(self, info: dict[str, Any], line_rate: int | None = None) -> None:
        log.info("connected over %s%s", info.get("transport", "?"), f" at {line_rate} bps" if line_rate else "")

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None:
        log.info("step %d started: %s", index, clean(name, keep_newlines=False))

    def step_finished(self, index: int, name: str, status: str, nbytes: int, duration: float) -> None:
        log.info("step %d %s: %d bytes in %.2fs", index, status, nbytes, duration)

    def notice(self, message: str) -> None:
        log.warning("%s", clean(message, keep_newlines=False))

    def run_finished(self, status: str) -> None:
        log.info("run ended: %s", status)


class Observers(RunObserver):
    """Tells every observer, in order."""

    def __init__(self, observers: list[RunObserver]) -> None:
        self.observers = observers

    def run_started(self, run_dir: str, target: str, steps: int) -> None:
        for o in self.observers:
            o.run_started(run_dir, target, steps)

    def connected(self, info: dict[str, Any], line_rate: int | None = None) -> None:
        for o in self.observers:
            o.connected(info, line_rate)

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None:
        for o in self.observers:
            o.step_started(index, name, expected_bytes)

    def bytes_read(self, n: int) -> None:
        for o in self.observers:
            o.bytes_read(n)

    def step_finished(self, index: int, name: str, status: str, nbytes: int, duration: float) -> None:
        for o in self.observers:
            o.step_finished(index, name, status, nbytes, duration)

    def notice(self, message: str) -> None:
        for o in self.observers:
            o.notice(message)

    def run_finished(self, status: str) -> None:
        for o in self.observers:
            o.run_finished(status)
