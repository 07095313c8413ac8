"""One worker process's state: who it is (name, queues, concurrency), where it writes (runs directory), the
devices it runs now (for the heartbeat to renew), the per-fleet job contexts, and whether it is handing back.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .broker import Outage, client
from .settings import DEFAULT_QUEUE, Settings

if TYPE_CHECKING:
    import redis

    from ..fleet.device_run import JobContext
    from ..fleet.progress import DeviceProgress

MAX_CONTEXTS = 32


@dataclass
class Running:
    """One task invocation on this worker: waiting for its device's lease, or running it."""

    invocation: str
    fid: str
    device: str
    lease_key: str | None = None  # set once the lease is taken
    delivery_tag: str | None = None
    stop: threading.Event = field(default_factory=threading.Event)  # hand back, or the fleet was closed
    progress: DeviceProgress | None = None


@dataclass
class Runtime:
    settings: Settings
    name: str = field(default_factory=lambda: f"collector-{os.getpid()}@{socket.gethostname()}")
    queues: list[str] = field(default_factory=lambda: [DEFAULT_QUEUE])
    concurrency: int = 4
    runs_dir: Path = Path("runs")
    stop_timeout: float | None = 60.0
    handing_back: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    running: dict[str, Running] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # task id -> delivery tag, from task_received
    done_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _contexts: OrderedDict[str, JobContext] = field(default_factory=OrderedDict)
    outage: Outage | None = None

    def __post_init__(self) -> None:
        self.runs_dir = Path(self.runs_dir).expanduser().resolve()
        self.outage = self.outage or Outage(self.settings.broker)

    @property
    def redis(self) -> redis.Redis:
        return client(self.settings.broker)

    def add(self, run: Running) -> None:
        with self.lock:
            self.running[run.invocation] = run
            if self.handing_back.is_set():
                run.stop.set()

    def remove(self, run: Running) -> None:
        with self.lock:
            self.running.pop(run.invocation, None)
            self.done_count += 1

    def snapshot(self) -> list[Running]:
        with self.lock:
            return list(self.running.values())

    def hand_back(self) -> None:
        """Interrupt every running device (each cleans up) so its job goes back to the queue."""
        self.handing_back.set()
        for run in self.snapshot():
            run.stop.set()

    def context(self, fid: str, fleet_path: Path, build: Any) -> JobContext:
        """The fleet's shared job context (secret cache, playbooks, limits), built once per fleet by build()."""
        with self.lock:
            if fid in self._contexts:
                self._contexts.move_to_end(fid)
                return self._contexts[fid]
        ctx = build(fleet_path)
        with self.lock:
            ctx = self._contexts.setdefault(fid, ctx)
            while len(self._contexts) > MAX_CONTEXTS:
                self._contexts.popitem(last=False)
        return ctx

    def heartbeat_doc(self) -> dict[str, Any]:
        runs = self.snapshot()
        return {"name": self.name, "queues": self.queues, "concurrency": self.concurrency, "pid": os.getpid(),
                "host": socket.gethostname(), "running": [{"fleet": r.fid, "device": r.device} for r in runs],
                "done": self.done_count, "stopping": self.stopping.is_set()}


_current: Runtime | None = None
_current_lock = threading.Lock()


def install(rt: Runtime) -> Runtime:
    global _current
    with _current_lock:
        _current = rt
    return rt


def current() -> Runtime:
    """This process's runtime; a worker started as `celery -A collector.workers.app worker` gets one from the
    environment (COLLECTOR_RUNS_DIR, COLLECTOR_QUEUES), and its heartbeat starts with the first device."""
    global _current
    with _current_lock:
        if _current is None:
            queues = [q for q in os.environ.get("COLLECTOR_QUEUES", DEFAULT_QUEUE).split(",") if q]
            _current = Runtime(Settings.from_env(), queues=queues,
                               runs_dir=Path(os.environ.get("COLLECTOR_RUNS_DIR", "runs")))
        return _current
