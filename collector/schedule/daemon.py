"""The foreground scheduler behind `collector scheduler`: APScheduler 3.x on the schedule store, one subprocess per run.

Missed-run policy (per job: coalesce=True, max_instances=1, misfire_grace_time = the job's --grace, default 10 min):
- If the scheduler was down (or late) at a job's time and starts within the grace window, the job runs once, late;
  several missed fire times of the same job are coalesced into that one run.
- Past the grace window the fire is not run: it is recorded as `missed` with its scheduled time
  (`collector schedule history`). With several coalesced fire times, the latest one is recorded.
- A job never overlaps itself: a fire while the previous run of the same job is still going is recorded `skipped`.
Stopping (SIGTERM/SIGINT): no new runs start; each running run gets SIGTERM (it switches debug off and ends
`interrupted`), is waited for up to --stop-timeout, then killed; the daemon exits 0. Logs go to stderr.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from ..errors import UsageError
from ..units import format_duration
from .executor import execute
from .jobs import Job, local_tz
from .store import MISSED, SKIPPED, ScheduleStore

log = logging.getLogger("collector.schedule")

_active: SchedulerDaemon | None = None
_active_lock = threading.Lock()
SYNC_JOB = "_collector_sync"


def fire(job_id: str) -> None:
    """APScheduler's entry point for every scheduled job (stored by reference, args = [job id] only)."""
    daemon = _active
    if daemon is None:  # pragma: no cover - only if a job outlives its daemon
        log.error("job %s fired with no scheduler running", job_id)
        return
    daemon.fire(job_id)


class _RecordingExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """The thread pool, noting each job's scheduled fire time (APScheduler does not pass it to the function)."""

    def __init__(self, daemon: SchedulerDaemon, max_workers: int) -> None:
        super().__init__(max_workers)
        self._daemon = daemon

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        # coalesce=True: run_times has one entry; max_instances=1: one pending fire per job id
        self._daemon._scheduled_for[job.id] = run_times[-1].timestamp()
        super()._do_submit_job(job, run_times)


def _time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).astimezone(local_tz()).isoformat(timespec="seconds")


class SchedulerDaemon:
    """`start()` / `stop()` for embedding and tests; `serve()` is the foreground daemon with signal handling."""

    def __init__(self, store: ScheduleStore, *, poll: float = 5.0, stop_timeout: float = 60.0, max_workers: int = 10,
                 env: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.poll = poll
        self.stop_timeout = stop_timeout
        self.max_workers = max_workers
        self.env = env
        self._scheduled_for: dict[str, float] = {}
        self._stopping = threading.Event()
        self._stop_requested = threading.Event()
        self._sync_lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None
        self._lock_fd: int | None = None

    # -- life cycle -------------------------------------------------------------------------------
    def start(self) -> None:
        global _active
        self._take_lock()
        with _active_lock:
            if _active is not None:
                self._release_lock()
                raise UsageError("a scheduler is already running in this process")
            _active = self
        try:
            lost = self.store.reap_stale()
            if lost:
                log.warning("%d execution(s) were left running by a scheduler that died; marked lost", lost)
            sched = BackgroundScheduler(
                jobstores={"default": self.store.jobstore(), "internal": MemoryJobStore()},
                executors={"default": _RecordingExecutor(self, self.max_workers),
                           "internal": ThreadPoolExecutor(1)},
                job_defaults={"coalesce": True, "max_instances": 1},
                timezone=local_tz(),
            )
            sched.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
            sched.start(paused=True)
            self._scheduler = sched
            self.sync()
            sched.add_job(self.sync, "interval", seconds=self.poll, id=SYNC_JOB, jobstore="internal",
                          executor="internal", coalesce=True, max_instances=1, misfire_grace_time=None)
            sched.resume()
        except BaseException:
            with _active_lock:
                _active = None
            self._release_lock()
            raise
        jobs = self.store.list_jobs()
        nxt = self.store.next_run_times()
        log.info("scheduler ready: %d job(s) in %s", len(jobs), self.store.path)
        for job in jobs:
            log.info("  %s %s: %s, next run %s", job.id, job.name, job.describe_trigger(), _time(nxt.get(job.id)))

    def stop(self) -> None:
        """Graceful: take no new jobs, SIGTERM running runs, wait for them (bounded by stop_timeout), shut down."""
        global _active
        sched = self._scheduler
        if sched is None:
            return
        log.info("scheduler stopping: no new runs; running runs get SIGTERM and up to %s to finish cleanup",
                 format_duration(self.stop_timeout))
        with contextlib.suppress(Exception):  # already stopped
            sched.pause()
        self._stopping.set()
        sched.shutdown(wait=True)
        self._scheduler = None
        with _active_lock:
            if _active is self:
                _active = None
        self._release_lock()
        log.info("scheduler stopped")

    def _take_lock(self) -> None:
        """One scheduler per store (two would run every job twice): an exclusive flock on `<store>.lock`."""
        path = self.store.path.with_name(self.store.path.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UsageError(f"another scheduler is running on {self.store.path} (pid {holder})",
                             hint="stop it first, or give this one its own --store") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _release_lock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    def request_stop(self) -> None:
        self._stop_requested.set()

    def serve(self, install_signals: bool = True) -> int:
        """Run in the foreground until SIGTERM/SIGINT; returns the exit code (0)."""
        if install_signals:
            def handler(signum: int, frame: Any) -> None:
                if self._stop_requested.is_set():
                    log.info("already stopping (signal %d)", signum)
                self._stop_requested.set()

            signal.signal(signal.SIGTERM, handler)
            signal.signal(signal.SIGINT, handler)
        self.start()
        sd_notify("READY=1")
        try:
            while not self._stop_requested.wait(0.5):
                pass
        finally:
            sd_notify("STOPPING=1")
            self.stop()
        return 0

    # -- jobs -------------------------------------------------------------------------------------
    def sync(self) -> None:
        """Bring APScheduler's job table in line with the job definitions (added/removed by `collector schedule`)."""
        sched = self._scheduler
        if sched is None:
            return
        with self._sync_lock:
            defs = {j.id: j for j in self.store.list_jobs()}
            registered = self.store.registered_ids()
            known = {j.id for j in sched.get_jobs(jobstore="default")}
            for job_id, job in defs.items():
                if job_id in known and job_id not in registered:
                    self.store.mark_registered(job_id)  # scheduled by a scheduler that died before noting it
                if job_id in known or job_id in registered:
                    continue  # scheduled, or already finished (a past --at job)
                try:
                    self._register(sched, job)
                except Exception as exc:
                    log.error("job %s (%s) cannot be scheduled: %s", job.id, job.name, exc)
                    continue
                self.store.mark_registered(job_id)
            for job_id in known - defs.keys():
                log.info("job %s was removed; unscheduling it", job_id)
                sched.remove_job(job_id, jobstore="default")

    def _register(self, sched: BackgroundScheduler, job: Job) -> None:
        first = datetime.fromtimestamp(job.first_run, UTC) if job.first_run is not None else None
        kwargs: dict[str, Any] = {"next_run_time": first} if first is not None else {}
        sched.add_job(fire, trigger=job.make_trigger(), args=[job.id], id=job.id, name=job.name, jobstore="default",
                      executor="default", misfire_grace_time=job.grace_seconds, coalesce=True, max_instances=1,
                      replace_existing=True, **kwargs)
        log.info("scheduled job %s (%s): %s, first run %s", job.id, job.name, job.describe_trigger(),
                 _time(job.first_run))

    def fire(self, job_id: str) -> None:
        scheduled = self._scheduled_for.pop(job_id, None)
        job = self.store.find_job(job_id)
        if job is None:
            log.warning("job %s was removed; not run", job_id)
            return
        if self._stopping.is_set():
            self.store.record_event(job_id, SKIPPED, scheduled, "the scheduler was stopping")
            return
        busy = self.store.running(job_id)
        if busy:
            self.store.record_event(job_id, SKIPPED, scheduled,
                                    f"already running (execution #{busy[0].id}, pid {busy[0].pid}); "
                                    "a job never overlaps itself")
            return
        execute(job, self.store, kind="scheduled", scheduled_for=scheduled, stop=self._stopping,
                stop_timeout=self.stop_timeout, env=self.env)

    def _on_event(self, event: Any) -> None:
        if event.job_id == SYNC_JOB:
            return
        if event.code == EVENT_JOB_MISSED:
            when = event.scheduled_run_time.timestamp()
            job = self.store.find_job(event.job_id)
            grace = format_duration(job.grace_seconds) if job else "?"
            log.warning("job %s missed its run at %s (more than the grace window, %s, late): not run",
                        event.job_id, _time(when), grace)
            self.store.record_event(event.job_id, MISSED, when,
                                    f"not run: the scheduler was not running at {_time(when)} and started more "
                                    f"than the grace window ({grace}) later")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            when = event.scheduled_run_times[-1].timestamp() if event.scheduled_run_times else None
            log.warning("job %s: previous run still going at %s; this fire is skipped", event.job_id, _time(when))
            self.store.record_event(event.job_id, SKIPPED, when,
                                    "previous run still going; a job never overlaps itself")
        elif event.code == EVENT_JOB_ERROR:  # pragma: no cover - fire() records its own failures
            log.error("job %s raised: %s", event.job_id, event.exception)


def sd_notify(state: str) -> None:
    """systemd Type=notify readiness (no-op without $NOTIFY_SOCKET)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.debug("sd_notify failed: %s", exc)
