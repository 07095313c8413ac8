"""One daemon thread that calls back once a deadline passes: arm it when a step starts, disarm it when it ends.

A threading.Timer per step starts a thread per step (a 500-step playbook of quick commands started 500);
re-arming this one costs a lock, and the thread wakes at most once per deadline period while steps stay quick.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Deadline(Generic[T]):
    """`arm(token)` schedules `fire(token)` after `delay` seconds unless `disarm()` or another `arm` comes first."""

    def __init__(self, delay: float, fire: Callable[[T], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.delay, self.fire, self.clock = delay, fire, clock
        self._cond = threading.Condition()
        self._due: float | None = None
        self._token: T | None = None
        self._thread: threading.Thread | None = None
        self._idle = True  # the thread waits without a deadline: a new one must wake it

    def arm(self, token: T) -> None:
        with self._cond:
            self._due, self._token = self.clock() + self.delay, token
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="collector-reveal", daemon=True)
                self._thread.start()
            elif self._idle:
                self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._due = self._token = None

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._due is None:
                        self._idle = True
                        self._cond.wait()
                        continue
                    self._idle = False
                    left = self._due - self.clock()
                    if left <= 0:
                        break
                    self._cond.wait(left)  # a re-arm moves the deadline later: checked again on waking
                token, self._due, self._token = self._token, None, None
            if token is not None:
                self.fire(token)


__all__ = ["Deadline"]
