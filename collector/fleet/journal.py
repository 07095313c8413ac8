"""The fleet journal (journal.jsonl in the fleet directory): typed fleet events, appended by one writer, folded.

Thread-safe appends (device threads finish concurrently); durable events are fsync'd; a torn last line is skipped.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..store.events import Event
from ..store.fsutil import utc_now
from ..store.journal import read_journal
from .events import DeviceFinished, DeviceStarted, FleetEnded, FleetResumed, FleetStarted, from_record


@dataclass
class FleetState:
    """The fleet as its journal tells it: each device's last outcome, and how the fleet last ended."""

    last: dict[str, DeviceFinished] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)
    ended: FleetEnded | None = None
    sessions: int = 0  # starts and resumes

    def apply(self, event: Event) -> None:
        if isinstance(event, FleetStarted):  # FleetResumed included
            self.sessions += 1
            self.ended = None
        elif isinstance(event, DeviceStarted):
            self.started.add(event.device)
        elif isinstance(event, DeviceFinished):
            self.last[event.device] = event
            self.started.discard(event.device)
        elif isinstance(event, FleetEnded):
            self.ended = event


def fold(path: Path) -> FleetState:
    state = FleetState()
    for record in read_journal(path):
        state.apply(from_record(record))
    return state


class FleetJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = fold(path)
        self._lock = threading.Lock()
        self._fd = -1

    def write(self, event: Event) -> dict[str, Any]:
        record: dict[str, Any] = {"event": event.kind, "ts": utc_now(), "mono": round(time.monotonic(), 6)}
        record.update(event.fields())
        data = (json.dumps(record, default=str) + "\n").encode()
        with self._lock:
            try:
                if self._fd < 0:
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.write(self._fd, data)
                if event.durable:
                    os.fsync(self._fd)
            except OSError as exc:
                raise StoreError(f"cannot append to {self.path}: {exc.strerror}") from exc
            event.ts = record["ts"]
            self.state.apply(event)
        return record

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


__all__ = ["FleetJournal", "FleetState", "fold", "FleetStarted", "FleetResumed", "DeviceStarted",
           "DeviceFinished", "FleetEnded"]
