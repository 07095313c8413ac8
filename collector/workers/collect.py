"""The submitter's side of a distributed fleet while it runs: read the workers' events from where it left off,
bring each finished device home (the first verified result per device; later duplicates are discarded), say when
a queue has no live worker, ride out broker outages, and end at --timeout or Ctrl-C by closing the fleet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..fleet.events import DeviceFinished, DeviceStarted
from ..fleet.job import DeviceJob, JobResult
from . import fleetstate
from .broker import Outage, connection_errors
from .importer import bring_home
from .submit import queue_of

if TYPE_CHECKING:
    import redis

    from ..fleet.fleetdir import FleetDir
    from ..fleet.journal import FleetJournal
    from ..fleet.progress import Board

CHECK_EVERY = 2.0
#: a served queue seen empty this many checks in a row while devices of it never started: their jobs were lost
#: (a broker restart can drop a message a worker was popping); they are sent again (a duplicate is harmless)
LOST_AFTER = 3
NOT_COLLECTED = 24  # RemoteError's exit code


@dataclass
class Hooks:
    tick: Callable[[], None] = lambda: None
    result: Callable[[JobResult], None] = lambda r: None
    notice: Callable[[str], None] = lambda text: None
    resend: Callable[[list[DeviceJob]], None] = lambda jobs: None  # the broker lost the fleet: send these again


@dataclass
class Collector:
    r: redis.Redis
    fleet: FleetDir
    jobs: list[DeviceJob]
    board: Board
    journal: FleetJournal
    outage: Outage
    hooks: Hooks = field(default_factory=Hooks)
    grace: float = 60.0  # after closing: how long running devices may take to stop and report
    results: dict[str, JobResult] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)  # device -> worker that started it
    duplicates: int = 0
    last_id: str = "0-0"
    unserved: set[str] = field(default_factory=set)
    empty_checks: dict[str, int] = field(default_factory=dict)
    import_ms: list[float] = field(default_factory=list)  # per device: verify, unpack, place
    _next_check: float = 0.0

    @property
    def fid(self) -> str:
        return self.jobs[0].fleet_id

    def pending(self) -> list[DeviceJob]:
        return [j for j in self.jobs if j.device not in self.results]

    def run(self, deadline: float | None) -> str | None:
        """Until every device reported, the deadline passed ("timeout") or Ctrl-C ("interrupted")."""
        try:
            while self.pending():
                if deadline is not None and time.monotonic() >= deadline:
                    return "timeout"
                self.step(block_ms=500)
        except KeyboardInterrupt:
            return "interrupted"
        return None

    def step(self, block_ms: int) -> None:
        was_down = self.outage.down_since is not None
        try:
            events = fleetstate.read_events(self.r, self.fid, self.last_id, block_ms)
            if was_down and not fleetstate.exists(self.r, self.fid):
                self._lost_fleet()
            self.outage.up()
        except connection_errors() as exc:
            self.outage.down(exc)
            time.sleep(min(1.0, block_ms / 1000))
            events = []
        by_name = {j.device: j for j in self.jobs}
        for ev in events:
            self.last_id = ev.id
            job = by_name.get(ev.device)
            if job is None:
                continue
            if ev.type == "started":
                self._started(job, str(ev.data.get("worker") or "?"))
            elif ev.type == "finished":
                self._finished(job, ev.data)
        if time.monotonic() >= self._next_check:
            self._next_check = time.monotonic() + CHECK_EVERY
            self._check_queues()
        self.hooks.tick()

    def _started(self, job: DeviceJob, worker: str) -> None:
        if job.device in self.results:
            return
        self.workers[job.device] = worker
        p = self.board.devices[job.device]
        p.state, p.started, p.step = "running", p.started or time.monotonic(), f"on {worker}"
        self.journal.write(DeviceStarted(device=job.device, worker=worker))

    def _finished(self, job: DeviceJob, record: dict[str, object]) -> None:
        sealed = record.get("sealed")
        if job.device in self.results:  # a duplicate (redelivery after a lost ack): the first result stands
            self.duplicates += 1
            if isinstance(sealed, dict) and sealed.get("mode") == "redis":
                fleetstate.forget_transfer(self.r, str(sealed.get("key")))
            return
        began = time.monotonic()
        result = bring_home(self.r, self.fleet, job, dict(record))
        self.import_ms.append((time.monotonic() - began) * 1000)
        if isinstance(sealed, dict) and sealed.get("mode") == "redis":
            fleetstate.forget_transfer(self.r, str(sealed.get("key")))
        self.record(result)

    def record(self, result: JobResult) -> None:
        self.results[result.device] = result
        p = self.board.devices[result.device]
        p.ended, p.status, p.error = time.monotonic(), result.status, result.error
        p.state = "done" if result.ok else "failed"
        p.steps_done, p.steps_total, p.bytes = result.steps_ok, max(p.steps_total, result.steps), result.bytes
        self.journal.write(DeviceFinished(device=result.device, status=result.status, exit_code=result.exit_code,
                                          error=result.error, run_dir=result.run_dir, steps=result.steps,
                                          steps_ok=result.steps_ok, bytes=result.bytes, duration=result.duration))
        self.hooks.result(result)

    def _check_queues(self) -> None:
        """Say once per queue that nobody serves it (and once when somebody does again); send lost jobs again."""
        try:
            served = fleetstate.served_queues(fleetstate.live_workers(self.r).values())
            waiting: dict[str, list[DeviceJob]] = {}
            for job in self.pending():
                if job.device not in self.workers:
                    waiting.setdefault(queue_of(job), []).append(job)
            lengths = {q: int(self.r.llen(q)) for q in waiting if q in served}
        except connection_errors():
            return
        for q, jobs in sorted(waiting.items()):
            if q not in served and q not in self.unserved:
                self.unserved.add(q)
                self.hooks.notice(f"queue {q}: no live worker serves it; {len(jobs)} device(s) wait (start "
                                  f"`collector worker --queues {q}`, or give --timeout)")
        for q in sorted(self.unserved & served):
            self.unserved.discard(q)
            self.hooks.notice(f"queue {q}: a worker serves it now")
        for q in list(self.empty_checks):
            if lengths.get(q) != 0:
                del self.empty_checks[q]
        for q, n in lengths.items():
            if n == 0:
                self.empty_checks[q] = self.empty_checks.get(q, 0) + 1
                if self.empty_checks[q] >= LOST_AFTER:
                    self.empty_checks[q] = 0
                    self.hooks.notice(f"queue {q} is empty but {len(waiting[q])} of its device(s) never started "
                                      "(jobs lost by the broker?): sending them again")
                    self.hooks.resend(waiting[q])

    def _lost_fleet(self) -> None:
        """The broker came back without this fleet (restarted without persistence): send the rest again."""
        again = self.pending()
        self.hooks.notice(f"the broker lost this fleet's state (was it restarted without persistence?); "
                          f"sending {len(again)} unfinished device(s) again")
        self.hooks.resend(again)

    def close(self, why: str, text: str) -> None:
        """Timeout or Ctrl-C: workers stop this fleet's devices (each cleans up); the rest never start."""
        try:
            fleetstate.close(self.r, self.fid, why)
        except connection_errors() as exc:
            self.hooks.notice(f"could not tell the workers the fleet is closed ({type(exc).__name__}); its "
                              "queued jobs may still run")
        end = time.monotonic() + self.grace
        try:
            while any(j.device in self.workers for j in self.pending()) and time.monotonic() < end:
                self.step(block_ms=250)
        except KeyboardInterrupt:
            pass
        self._give_up(text)

    def _give_up(self, text: str) -> None:
        try:
            served = fleetstate.served_queues(fleetstate.live_workers(self.r).values())
        except connection_errors():
            served = set()
        for job in self.pending():
            worker = self.workers.get(job.device)
            if worker is not None:
                why = f"was running on worker {worker} when {text}; its result did not arrive"
                status = "interrupted"
            elif queue_of(job) not in served:
                why, status = f"no worker served queue {queue_of(job)} before {text}", "not-started"
            else:
                why, status = f"still queued on {queue_of(job)} (workers busy) when {text}", "not-started"
            self.record(JobResult(device=job.device, status=status, exit_code=NOT_COLLECTED, error=why,
                                  worker=worker))
