"""Runs device jobs concurrently: at most `workers` at once, threads in this one process (each Runner already
runs its transport's own threads; a process per device would cost ~50 MiB each), never two on one line.

The first Ctrl-C/SIGTERM stops starting devices and interrupts the running ones (each keeps what arrived, runs
its cleanup, ends `interrupted`); a second one leaves at once (a `collector resume FLEET_DIR` continues).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .device_run import JobContext, run_job
from .events import DeviceFinished, DeviceStarted
from .job import DeviceJob, JobResult
from .journal import FleetJournal
from .progress import Board, DeviceObserver

TICK = 0.25
STOPPED = "the fleet was stopped before this device started"


@dataclass
class Executor:
    jobs: list[DeviceJob]
    ctx: JobContext
    journal: FleetJournal
    board: Board
    workers: int = 10
    cleanup_steps: set[int] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    on_tick: Callable[[], None] | None = None
    on_result: Callable[[JobResult], None] | None = None
    on_stopping: Callable[[], None] | None = None
    resumed: bool = False
    results: dict[str, JobResult] = field(default_factory=dict)
    threads: dict[str, threading.Thread] = field(default_factory=dict)
    interrupted: bool = False
    peak_running: int = 0

    def run(self) -> dict[str, JobResult]:
        done: queue.Queue[JobResult] = queue.Queue()
        pending = list(self.jobs)
        running: dict[str, DeviceJob] = {}
        while pending or running:
            try:
                if not self.stop.is_set():
                    self._launch(pending, running, done)
                self._collect(done, running)
            except KeyboardInterrupt:
                if self.stop.is_set():
                    raise  # the second one: leave now, the runs stay resumable
                self.interrupted = True
                self.stop.set()
                if self.on_stopping is not None:
                    self.on_stopping()
            if self.stop.is_set() and pending:
                for job in pending:
                    self.results[job.device] = JobResult(device=job.device, status="not-started", exit_code=130,
                                                         error=STOPPED)
                    self.board.devices[job.device].state = "not-started"
                pending.clear()
        return self.results

    def _launch(self, pending: list[DeviceJob], running: dict[str, DeviceJob], done: queue.Queue[JobResult]) -> None:
        busy = {j.line for j in running.values() if j.line}
        i = 0
        while i < len(pending) and len(running) < max(1, self.workers):
            job = pending[i]
            if job.line and job.line in busy:  # a modem or console line is in use: one call at a time
                i += 1
                continue
            pending.pop(i)
            running[job.device] = job
            if job.line:
                busy.add(job.line)
            self.journal.write(DeviceStarted(device=job.device, resumed=self.resumed))
            progress = self.board.devices[job.device]
            progress.state, progress.started = "waiting", time.monotonic()
            worker = threading.Thread(target=self._work, args=(job, done), name=f"fleet-{job.slug}", daemon=True)
            self.threads[job.device] = worker
            worker.start()
            self.peak_running = max(self.peak_running, len(running))

    def _work(self, job: DeviceJob, done: queue.Queue[JobResult]) -> None:
        observer = DeviceObserver(self.board, job.device, self.stop, self.cleanup_steps)
        try:
            result = run_job(job, self.ctx, observer)
        except BaseException as exc:  # an interrupt that escaped the run, or worse: this device only
            result = JobResult(device=job.device, status="interrupted" if isinstance(exc, KeyboardInterrupt)
                               else "failed", exit_code=130 if isinstance(exc, KeyboardInterrupt) else 70,
                               error=f"{type(exc).__name__}: {exc}")
        done.put(result)

    def _collect(self, done: queue.Queue[JobResult], running: dict[str, DeviceJob]) -> None:
        try:
            result = done.get(timeout=TICK)
        except queue.Empty:
            self._reap(done, running)
            if self.on_tick is not None:
                self.on_tick()
            return
        while True:
            self._finish(result, running)
            try:
                result = done.get_nowait()
            except queue.Empty:
                break
        if self.on_tick is not None:
            self.on_tick()

    def _reap(self, done: queue.Queue[JobResult], running: dict[str, DeviceJob]) -> None:
        """A device whose thread ended but whose result was lost (an interrupt at the wrong moment): say so."""
        for device in [d for d in running if not self.threads[d].is_alive()]:
            if done.empty() and device in running:
                self._finish(JobResult(device=device, status="interrupted", exit_code=130,
                                       error="interrupted while its result was collected"), running)

    def _finish(self, result: JobResult, running: dict[str, DeviceJob]) -> None:
        running.pop(result.device, None)
        self.results[result.device] = result
        p = self.board.devices[result.device]
        p.ended, p.status, p.error = time.monotonic(), result.status, result.error
        p.state = "done" if result.ok else "failed"
        p.steps_done, p.steps_total = result.steps_ok, max(p.steps_total, result.steps)
        p.bytes = max(p.bytes, result.bytes)
        self.journal.write(DeviceFinished(
            device=result.device, status=result.status, exit_code=result.exit_code, error=result.error,
            run_dir=result.run_dir, steps=result.steps, steps_ok=result.steps_ok, bytes=result.bytes,
            duration=result.duration))
        if self.on_result is not None:
            self.on_result(result)
