"""-v/--verbose and --log-file for every command: log records to stderr and/or a private file.

Every record passes a filter that masks the run's secrets and strips terminal controls before it is written.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import UsageError
from ..secrets import Masker
from ..ui.console import clean

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _MaskFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.maskers: list[Masker] = []

    def filter(self, record: logging.LogRecord) -> bool:
        text = clean(record.getMessage())
        for masker in self.maskers:
            text = masker.text(text)
        record.msg, record.args = text, None
        return True


_FILTER = _MaskFilter()


def setup(verbose: int, log_file: Path | None) -> None:
    """Configure the `collector` logger: stderr at WARNING/INFO/DEBUG by -v count, the file at DEBUG."""
    root = logging.getLogger("collector")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if verbose or log_file:  # otherwise the level is left alone (in-process callers keep their own)
        root.setLevel(logging.DEBUG if verbose > 1 or log_file else logging.INFO)
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    handlers: list[logging.Handler] = [stderr]
    if log_file is not None:
        try:
            fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise UsageError(f"--log-file {log_file}: {exc.strerror}", hint="choose a writable path") from None
        os.close(fd)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(_FILTER)
        root.addHandler(handler)


def mask(masker: Masker) -> None:
    """From now on, the secrets this masker knows never reach a log."""
    if masker not in _FILTER.maskers:
        _FILTER.maskers.append(masker)
