"""Thread-safe event log of a simulated device: connects, auth attempts, commands, disconnects.

Tests count events instead of sleeping; the log can be mirrored line by line to a JSONL file.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

KINDS = ("connect", "auth-attempt", "auth-ok", "auth-fail", "command", "disconnect")


class EventLog:
    """Append-only list of event dicts ({"t", "kind", ...fields}); never holds a secret value."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._cond = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._path = Path(path) if path is not None else None
        self._file = self._path.open("a", encoding="utf-8") if self._path is not None else None

    def record(self, kind: str, **fields: Any) -> None:
        event: dict[str, Any] = {"t": round(time.time(), 6), "kind": kind, **fields}
        with self._cond:
            self._events.append(event)
            if self._file is not None:
                self._file.write(json.dumps(event, default=str) + "\n")
                self._file.flush()
            self._cond.notify_all()

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(e) for e in self._events if kind is None or e["kind"] == kind]

    def commands(self) -> list[str]:
        with self._cond:
            return [str(e["command"]) for e in self._events if e["kind"] == "command"]

    def count(self, kind: str, **match: Any) -> int:
        """Number of events of `kind` whose fields equal every `match` item (e.g. user="admin")."""
        with self._cond:
            return sum(1 for e in self._events if e["kind"] == kind and all(e.get(k) == v for k, v in match.items()))

    def wait_for(self, predicate: Callable[[EventLog], bool], timeout: float = 10.0) -> bool:
        """Block until predicate(self) is true or timeout passes; returns the final truth value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                # predicate calls back into the log: Condition's RLock makes that re-entrant.
                if predicate(self):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)

    def wait_count(self, kind: str, n: int, timeout: float = 10.0, **match: Any) -> bool:
        return self.wait_for(lambda log: log.count(kind, **match) >= n, timeout)

    def clear(self) -> None:
        with self._cond:
            self._events.clear()

    def close(self) -> None:
        with self._cond:
            if self._file is not None:
                self._file.close()
                self._file = None
