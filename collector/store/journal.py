"""The run journal: an append-only JSONL record of steps, attempts, outages and cleanup.

It is the truth for resume; every record passes through the masker so no secret lands in it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..secrets import Masker
from .fsutil import utc_now


class Journal:
    """Appends events like {"event": "step-completed", "step": 3, ...} with UTC and monotonic stamps."""

    def __init__(self, path: Path, masker: Masker | None = None) -> None:
        self.path = path
        self.masker = masker or Masker()
        self._fd = -1

    def write(self, event: str, *, durable: bool = False, **fields: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"event": event, "ts": utc_now(), "mono": round(time.monotonic(), 6)}
        record.update(fields)
        line = json.dumps(record, default=str)
        if self.masker:
            line = self.masker.text(line)
        data = (line + "\n").encode()
        try:
            if self._fd < 0:  # kept open: one write() per record, no open/close per step
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(self._fd, data)
            if durable:
                os.fsync(self._fd)
        except OSError as exc:
            raise StoreError(f"cannot append to {self.path}: {exc.strerror}") from exc
        return record

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Every well-formed record; a torn last line (crash) is skipped."""
    if not path.exists():
        return
    with path.open() as fh:
        for line in fh:
            try:
                yield json.loads(line)
            except ValueError:
                continue
