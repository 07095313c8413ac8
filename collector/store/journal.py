"""The run journal: an append-only JSONL record of typed events (steps, attempts, outages, cleanup).

It is the truth for resume and the one run state (folded as it is written); every record passes the masker.
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..secrets import Masker
from .event_codec import from_record, to_record
from .events import Event
from .fsutil import no_space, utc_now
from .records import RunState, fold


class Journal:
    """Appends typed events with UTC and monotonic stamps; `state` is the run state folded so far."""

    def __init__(self, path: Path, masker: Masker | None = None, state: RunState | None = None,
                 on_full: Callable[[], bool] | None = None) -> None:
        self.path = path
        self.masker = masker or Masker()
        self.state = state if state is not None else fold(read_events(path))
        self.on_full = on_full  # frees reserved space when the disk is full, so the record still lands
        self._fd = -1

    def write(self, event: Event) -> dict[str, Any]:
        record: dict[str, Any] = {"event": event.kind, "ts": utc_now(), "mono": round(time.monotonic(), 6)}
        record.update(to_record(event))
        if self.masker:
            masked = self.masker.json(json.loads(json.dumps(record, default=str)))
            if masked != record:  # the state folds what the file says: no secret in memory either
                record, event = masked, from_record(masked)
        line = json.dumps(record, default=str)
        data = (line + "\n").encode()
        try:
            self._append(data, event.durable)
        except OSError as exc:
            if not (no_space(exc) and self.on_full is not None and self.on_full()):
                raise StoreError(f"cannot append to {self.path}: {exc.strerror}") from exc
            try:  # the disk was full: the reserve was freed for exactly these records
                self._append(data, event.durable)
            except OSError as again:
                raise StoreError(f"cannot append to {self.path}: {again.strerror}") from again
        event.ts, event.mono = record["ts"], record["mono"]
        self.state.apply(event)
        return record

    def _append(self, data: bytes, durable: bool) -> None:
        if self._fd < 0:  # kept open: one write() per record, no open/close per step
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        written = os.write(self._fd, data)
        if written != len(data):  # a short write on a full disk: never leave half a record
            os.ftruncate(self._fd, os.lseek(self._fd, 0, os.SEEK_CUR) - written)
            raise OSError(errno.ENOSPC, "No space left on device")
        if durable:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Every well-formed record as written; a torn last line (crash) is skipped."""
    if not path.exists():
        return
    with path.open() as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def read_events(path: Path) -> Iterator[Event]:
    """Every well-formed record as a typed event (unknown ones as UnknownEvent)."""
    for record in read_journal(path):
        yield from_record(record)
