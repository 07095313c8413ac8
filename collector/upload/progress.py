"""Progress display for uploads: bytes done of total, transfer rate and ETA (rich, on stderr).

`NullProgress` is the silent twin used when progress is off or stderr is not a terminal.
"""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ..ui.console import clean


class NullProgress:
    """Same interface as UploadProgress, does nothing."""

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        return None

    def advance(self, n: int) -> None:
        return None

    def rewind(self, n: int) -> None:
        """Bytes of a failed attempt: they will be sent again, so take them off the bar."""
        return None

    def describe(self, text: str) -> None:
        return None


class UploadProgress(NullProgress):
    """A single bar for the whole bundle; starts at the bytes the case already has."""

    def __init__(self, total: int, done: int, label: str, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task: TaskID = self._progress.add_task(clean(label, keep_newlines=False), total=total, completed=done)

    def __enter__(self) -> UploadProgress:
        self._progress.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def rewind(self, n: int) -> None:
        self._progress.advance(self._task, -n)

    def describe(self, text: str) -> None:
        self._progress.update(self._task, description=clean(text, keep_newlines=False))


def make_progress(enabled: bool, total: int, done: int, label: str) -> NullProgress:
    if not enabled or not sys.stderr.isatty():
        return NullProgress()
    return UploadProgress(total, done, label)
