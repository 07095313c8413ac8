"""Process-level helpers for a run: SIGTERM treated like Ctrl-C, and the process's own peak memory.

SIGTERM → KeyboardInterrupt inside a run, so the cleanup guarantee covers `kill`, systemd and schedulers too.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (scheduler workers)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def peak_rss_kib() -> int | None:
    """This process image's peak RSS (VmHWM; unlike ru_maxrss it does not inherit the parent's before exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
