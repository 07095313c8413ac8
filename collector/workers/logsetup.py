"""Worker logging for systemd and people: one stderr handler on the root logger (Celery's records too), every
record masked with the secrets the worker resolved and stripped of terminal controls; timestamps unless journald
already adds them (JOURNAL_STREAM set).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from ..errors import UsageError
from ..secrets import Masker, Secret
from ..ui.console import clean

PLAIN = "%(levelname)s %(name)s: %(message)s"
STAMPED = "%(asctime)s " + PLAIN


class MaskFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.masker = Masker()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        text = self.masker.text(clean(record.getMessage()))
        record.msg, record.args = text, None
        if record.exc_info:  # a traceback may quote a value: it is formatted here, masked, and kept as text
            formatter = logging.Formatter()
            record.msg = f"{text}\n{self.masker.text(formatter.formatException(record.exc_info))}"
            record.exc_info, record.exc_text = None, None
        return True


FILTER = MaskFilter()


def mask_secret(secret: Secret | None) -> None:
    FILTER.masker.add(secret)


def setup(verbose: int = 0, log_file: Path | None = None) -> None:
    """One masked stderr handler (and a private file at DEBUG when --log-file is given) on the root logger."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(PLAIN if os.environ.get("JOURNAL_STREAM") else STAMPED))
    handler.addFilter(FILTER)
    root.addHandler(handler)
    if log_file is not None:
        try:
            os.close(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        except OSError as exc:
            raise UsageError(f"--log-file {log_file}: {exc.strerror}", hint="choose a writable path") from None
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter(STAMPED))
        handler.addFilter(FILTER)
        root.addHandler(handler)
    logging.captureWarnings(True)  # e.g. Celery's warning about running as root: one log line, not a banner
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    logging.getLogger("collector").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    for noisy in ("paramiko", "asyncio", "telnetlib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 2 else logging.WARNING)
