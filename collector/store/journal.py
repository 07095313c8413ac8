"""The run journal: an append-only JSONL record of steps, attempts, outages and cleanup.

It is the truth for resume; every record passes through the masker so no secret lands in it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..secrets import Masker
from .fsutil import append_line, utc_now


class Journal:
    """Appends events like {"event": "step-completed", "step": 3, ...} with UTC and monotonic stamps."""

    def __init__(self, path: Path, masker: Masker | None = None) -> None:
        self.path = path
        self.masker = masker or Masker()

    def write(self, event: str, *, durable: bool = False, **fields: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"event": event, "ts": utc_now(), "mono": round(time.monotonic(), 6)}
        record.update(fields)
        line = json.dumps(record, default=str)
        if self.masker:
            line = self.masker.text(line)
        append_line(self.path, line, fsync=durable)
        return record


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
