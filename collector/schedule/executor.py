"""One execution of a scheduled job: `collector run ... --json` as a subprocess, its --for cap, its recorded result.

The run is a separate process (a crashing run cannot take the scheduler down). At the --for cap, or when the
scheduler stops, it gets SIGTERM, which a run treats like Ctrl-C: it stops, runs its cleanup (debug off) and ends
`interrupted` (exit 130; `collector resume RUN_DIR` continues it). SIGKILL only if it has not ended `stop_timeout`
seconds later.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from ..units import format_duration
from .jobs import Job
from .store import ScheduleStore

log = logging.getLogger("collector.schedule")

STDOUT_CAP = 16 << 20
STDERR_TAIL_LINES = 20
EXIT_STATUS = {0: "ok", 5: "step-errors", 6: "some-failed", 23: "cleanup-pending", 130: "interrupted"}


@dataclass
class ExecutionResult:
    exec_id: int
    status: str
    exit_code: int | None
    run_dir: str | None
    run_status: str | None
    message: str | None
    stopped_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def classify(exit_code: int | None, stopped_by: str | None) -> str:
    """Execution status from the run's exit code (README table) and why we stopped it, if we did."""
    if exit_code is None:
        return "failed"
    if stopped_by == "cap" and exit_code in (0, 5, 130):
        return "stopped-at-cap"
    if exit_code < 0:
        return "killed"
    return EXIT_STATUS.get(exit_code, "failed")


def parse_run_json(stdout: str) -> dict[str, Any] | None:
    """The first JSON object of `collector run --json` output (a --bundle summary may follow it)."""
    start = stdout.find("{")
    if start < 0:
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(stdout, start)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _drain(stream: IO[bytes], sink: bytearray) -> None:
    while True:
        block = stream.read(65536)
        if not block:
            return
        if len(sink) < STDOUT_CAP:
            sink += block[: STDOUT_CAP - len(sink)]


def _lines(stream: IO[bytes], tail: collections.deque[str], prefix: str) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)
            log.info("%s %s", prefix, line)


def execute(
    job: Job,
    store: ScheduleStore,
    *,
    kind: str = "scheduled",
    scheduled_for: float | None = None,
    stop: threading.Event | None = None,
    stop_timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
    poll: float = 0.1,
) -> ExecutionResult:
    """Run the job once, in the calling thread, and record start and end in the store."""
    stop = stop or threading.Event()
    exec_id = store.start_execution(job, kind, scheduled_for)
    try:
        return _execute(job, store, exec_id, stop, stop_timeout, env, on_start, poll)
    except BaseException as exc:  # never leave a row `running` (it would block the job's next fires)
        store.finish_execution(exec_id, "failed", None, message=f"internal error: {type(exc).__name__}: {exc}")
        raise


def _execute(job: Job, store: ScheduleStore, exec_id: int, stop: threading.Event, stop_timeout: float,
             env: Mapping[str, str] | None, on_start: Callable[[subprocess.Popen[bytes]], None] | None,
             poll: float) -> ExecutionResult:
    argv = job.argv()
    tag = f"[{job.name} {job.id}#{exec_id}]"
    try:
        os.makedirs(job.runs_dir, exist_ok=True)  # its parent is the run's working directory (bundles/ go there)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=job.workdir if os.path.isdir(job.workdir) else None,
                                env=dict(env) if env is not None else None, start_new_session=True)
    except OSError as exc:
        why = f"cannot start {argv[0]}: {exc}"
        store.finish_execution(exec_id, "failed", None, message=why)
        log.error("%s %s", tag, why)
        return ExecutionResult(exec_id, "failed", None, None, None, why)
    store.set_child(exec_id, proc.pid)
    log.info("%s started (pid %d)%s", tag, proc.pid,
             f", capped at {format_duration(job.for_seconds)}" if job.for_seconds else "")
    if on_start is not None:
        on_start(proc)
    out = bytearray()
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    assert proc.stdout is not None and proc.stderr is not None
    readers = [threading.Thread(target=_drain, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=_lines, args=(proc.stderr, tail, tag), daemon=True)]
    for t in readers:
        t.start()
    stopped_by, code = _supervise(proc, job, stop, stop_timeout, poll, tag)
    for t in readers:
        t.join(5)
    summary = parse_run_json(out.decode("utf-8", "replace"))
    run_dir = str(summary["run_dir"]) if summary and summary.get("run_dir") else None
    run_status = str(summary["status"]) if summary and summary.get("status") else None
    status = classify(code, stopped_by)
    notes = []
    if stopped_by == "cap":
        notes.append(f"stopped at the --for cap ({format_duration(job.for_seconds or 0)})")
    elif stopped_by == "stop":
        notes.append("stopped because the scheduler was stopping")
    if status not in ("ok", "stopped-at-cap") and tail:
        notes.append(" | ".join(tail)[-1000:])
    message = "; ".join(notes) or None
    store.finish_execution(exec_id, status, code, run_dir=run_dir, run_status=run_status, message=message)
    log.info("%s ended: %s (exit %s)%s", tag, status, code, f", run directory {run_dir}" if run_dir else "")
    return ExecutionResult(exec_id, status, code, run_dir, run_status, message, stopped_by)


def _supervise(proc: subprocess.Popen[bytes], job: Job, stop: threading.Event, stop_timeout: float, poll: float,
               tag: str) -> tuple[str | None, int | None]:
    """Wait for the run; SIGTERM it at the cap or on stop, SIGKILL `stop_timeout` s later. (why stopped, exit)."""
    started = time.monotonic()
    cap_at = started + job.for_seconds if job.for_seconds else None
    stopped_by: str | None = None
    kill_at: float | None = None
    while True:
        try:
            return stopped_by, proc.wait(timeout=poll)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if stopped_by is None and (stop.is_set() or (cap_at is not None and now >= cap_at)):
            stopped_by = "stop" if stop.is_set() else "cap"
            log.info("%s %s: sending SIGTERM (the run switches debug off and ends interrupted)", tag,
                     "scheduler stopping" if stopped_by == "stop" else "--for cap reached")
            _signal(proc, signal.SIGTERM)
            kill_at = now + stop_timeout
        elif kill_at is not None and now >= kill_at:
            log.warning("%s still running %s after SIGTERM: SIGKILL (cleanup may be pending: "
                        "`collector resume` the run directory)", tag, format_duration(stop_timeout))
            _signal(proc, signal.SIGKILL)
            kill_at = None


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        proc.send_signal(sig)
