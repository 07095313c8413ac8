"""Creates the next step files on a background thread while the current command runs, so a file system that
takes up to a millisecond to create a file (a busy or throttled disk) no longer adds that to every short command.

A prepared file is empty and hidden (`.<name>.ahead`) until its step takes it: only then does it get the step
file's `.writing` name. Files prepared for steps that never ran are removed when the run closes, and by resume
after a crash (`remove_stale`); nothing reads or bundles them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path

SUFFIX = ".ahead"
DEPTH = 8  # files prepared at most at once: bounded descriptors, and little to remove after a stop


def ahead_path(tmp: Path) -> Path:
    """Where the file for `tmp` (a step file's `.writing` path) is prepared."""
    return tmp.with_name(f".{tmp.name}{SUFFIX}")


class FilesAhead:
    """Prepares `tmps` in order; `take(tmp)` hands over an open descriptor now named `tmp`, or None."""

    def __init__(self, tmps: Iterable[Path], depth: int = DEPTH) -> None:
        self._todo = deque(tmps)
        self._ready: dict[Path, int] = {}
        self._depth = depth
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> FilesAhead:
        if self._todo and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="collector-files-ahead", daemon=True)
            self._thread.start()
        return self

    def take(self, tmp: Path) -> int | None:
        """The prepared descriptor for `tmp`, renamed to it; None when it was not prepared (open it yourself)."""
        with self._cond:
            fd = self._ready.pop(tmp, None)
            self._cond.notify()
        if fd is None:
            return None
        try:
            os.replace(ahead_path(tmp), tmp)
        except OSError:
            os.close(fd)
            return None
        return fd

    def close(self) -> None:
        """Stop preparing; remove what no step took."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
        with self._cond:
            left, self._ready = self._ready, {}
        for tmp, fd in left.items():
            os.close(fd)
            with contextlib.suppress(OSError):
                ahead_path(tmp).unlink()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._todo and len(self._ready) >= self._depth:
                    self._cond.wait()
                if self._closed or not self._todo:
                    return
                tmp = self._todo.popleft()
            try:
                fd = os.open(ahead_path(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            except OSError:
                continue  # its step opens the file itself, and reports what goes wrong
            with self._cond:
                if self._closed:
                    os.close(fd)
                    with contextlib.suppress(OSError):
                        ahead_path(tmp).unlink()
                    return
                self._ready[tmp] = fd


def remove_stale(steps_dir: Path) -> int:
    """Prepared files a killed process left behind (empty, never a step's): removed before a resume."""
    removed = 0
    for p in steps_dir.glob(f".*{SUFFIX}") if steps_dir.is_dir() else []:
        with contextlib.suppress(OSError):
            p.unlink()
            removed += 1
    return removed


__all__ = ["DEPTH", "SUFFIX", "FilesAhead", "ahead_path", "remove_stale"]
