"""One device job run: exactly today's single-device run (runner.Runner) in the device's own run directory.

Started fresh, or resumed in place when the directory has an unfinished run; a finished device is not touched
again. Never raises: every failure (guard, credentials, connect, auth, host key, bug) becomes the device's result.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CollectorError, GuardRefused, StoreError
from ..runner.observer import RunObserver
from ..secrets import Masker
from ..store.records import StepRecord
from ..store.rundir import RunDir
from .creds import Fallback, SecretCache, build, record
from .fleetdir import FleetDir
from .job import DeviceJob, JobResult
from .limits import Limits
from .playbooks import PlaybookCache

log = logging.getLogger("collector.fleet")
DONE = ("ok", "completed-with-errors")
FLEET_FILES_AHEAD = 8  # step files each device keeps made ahead: descriptors stay bounded with 100 devices at once
INTERNAL = 70


@dataclass
class JobContext:
    """What every job of one process shares: the fleet directory, caches, limits and the run's own flags."""

    fleet: FleetDir
    limits: Limits = field(default_factory=Limits)
    secrets: SecretCache = field(default_factory=SecretCache)
    playbooks: PlaybookCache = field(default_factory=PlaybookCache)
    fallback: Fallback = field(default_factory=Fallback)
    known_masks: list[Callable[[Masker], None]] = field(default_factory=list)  # e.g. the log filter's `mask`
    #: when set, outputs are parsed after the whole fleet has collected (parsing never competes with collection)
    deferred_parses: list[Callable[[], None]] | None = None


def finished(run_dir: Path | None) -> dict[str, Any] | None:
    """run.json of a run that ended ok (or with step errors) and journaled its end; else None."""
    if run_dir is None:
        return None
    try:
        rd = RunDir.open(run_dir)
        info = rd.read_run_info()
        state = rd.state()
    except StoreError:
        return None
    if info.get("status") in DONE and state.ended_at:
        return info
    return None


def result_of(job: DeviceJob, fleet: FleetDir, run_dir: Path, status: str, error: CollectorError | None,
              duration: float, records: list[StepRecord] | None = None) -> JobResult:
    """The device's result; `records`: its steps as the runner that just ran them holds them (else the journal
    is read)."""
    if records is None:
        try:
            records = RunDir.open(run_dir).state().ordered()
        except StoreError:
            records = []
    steps = [r for r in records if r.kind != "cleanup"]
    code = error.exit_code if error else (5 if status == "completed-with-errors" else 0)
    return JobResult(device=job.device, status=status, exit_code=code, error=error.message if error else None,
                     hint=error.hint if error else None, run_dir=fleet.rel(run_dir), steps=len(steps),
                     steps_ok=sum(1 for r in steps if r.status == "ok"), bytes=sum(r.bytes for r in steps),
                     duration=round(duration, 3))


def _never_started(run_dir: Path | None) -> bool:
    """A run directory made just before a crash: run.json written, no journal yet (a raw chunk file may have
    been opened, empty): nothing was recorded, so there is nothing to resume."""
    return run_dir is not None and not (run_dir / "journal.jsonl").exists()


def _holds_data(run_dir: Path) -> bool:
    """Bytes from the device: a non-empty raw chunk or step file (raw/ also holds records about the run, such as
    the masking fingerprints written when the raw stream opens: they are not data)."""
    raw = run_dir / "raw"
    chunks = [p for p in raw.iterdir() if ".chunk" in p.name] if raw.is_dir() else []
    steps = list((run_dir / "steps").iterdir()) if (run_dir / "steps").is_dir() else []
    return any(p.is_file() and p.stat().st_size > 0 for p in chunks + steps)


def run_job(job: DeviceJob, ctx: JobContext, observer: RunObserver | None = None) -> JobResult:
    started = time.monotonic()
    existing = ctx.fleet.run_dir(job)
    if _never_started(existing):  # start that device afresh
        assert existing is not None
        if _holds_data(existing):  # bytes without a journal: never deleted, set aside for a person to look at
            existing.rename(existing.with_name(existing.name + ".no-journal"))
        else:
            shutil.rmtree(existing, ignore_errors=True)
        existing = None
    try:
        if finished(existing) is not None:
            assert existing is not None
            info = RunDir.open(existing).read_run_info()
            return result_of(job, ctx.fleet, existing, str(info["status"]), None, 0.0)
        return _run(job, ctx, observer, existing, started)
    except CollectorError as exc:
        status = "refused" if isinstance(exc, GuardRefused) else "not-started"
        return JobResult(device=job.device, status=status, exit_code=exc.exit_code, error=exc.message,
                         hint=exc.hint or None, run_dir=ctx.fleet.rel(existing))
    except Exception as exc:  # a bug must cost one device, never the fleet
        log.exception("device %s: internal error", job.device)
        return JobResult(device=job.device, status="failed", exit_code=INTERNAL,
                         error=f"internal error: {type(exc).__name__}: {exc}", run_dir=ctx.fleet.rel(existing))


def _run(job: DeviceJob, ctx: JobContext, observer: RunObserver | None, existing: Path | None,
         started: float) -> JobResult:
    from ..runner.connector import ReconnectPolicy
    from ..runner.runner import Runner, RunOptions
    from ..target import parse_jumps, parse_target
    from ..transports.base import ConnectOptions

    steps, platform, info, retarget = _planned(job, ctx)  # the guard, before anything is contacted
    target = parse_target(_with_options(job))
    creds, hops = build(job, ctx.secrets, ctx.fallback, target.user)
    for mask in ctx.known_masks:
        mask(creds.masker)
    c = job.connect
    opts = ConnectOptions(credentials=creds, accept_new_host_key=c.accept_new_host_key, known_hosts=c.known_hosts,
                          legacy_algorithms=c.legacy_algorithms, use_agent=c.use_agent,
                          jumps=parse_jumps(",".join(job.jumps)), jump_mode=c.jump_mode,
                          ssh_config="~/.ssh/config" if c.ssh_config else None, hop_credentials=hops)
    o = job.options
    ropts = RunOptions(runs_dir=ctx.fleet.device_dir(job), chunk_size=o.chunk_size,
                       policy=ReconnectPolicy(attempts=o.reconnect_attempts, within=o.reconnect_for),
                       login_timeout=o.login_timeout, case=o.case, allow_changes=o.allow_changes,
                       send_break=c.send_break, credential_sources=record(job),
                       login_gate=lambda: ctx.limits.gate(job), parse_outputs=ctx.deferred_parses is None,
                       files_ahead=FLEET_FILES_AHEAD)
    runner = Runner(steps, platform, target, opts, ropts, observer, playbook_info=info, retarget=retarget)
    outcome = runner.resume(existing) if existing is not None else runner.start()
    if ctx.deferred_parses is not None:
        ctx.deferred_parses.append(lambda: runner.parse_outputs(outcome.run_dir, outcome.state))
    return result_of(job, ctx.fleet, outcome.run_dir, outcome.status, outcome.error, time.monotonic() - started,
                     outcome.steps)


def _planned(job: DeviceJob, ctx: JobContext) -> tuple[Any, ...]:
    """(steps, platform, playbook record, retarget): a device of platform `auto` gets its steps after detection."""
    from ..runner.autoplan import LibraryRetarget, PlaybookRetarget, placeholder
    from ..runner.plan import plan_steps, playbook_info

    allow = job.options.allow_changes
    if ctx.playbooks.deferred(job):
        platform = ctx.playbooks.platform(job.platform)
        if not job.playbook.sha256:  # a library name
            return [], platform, placeholder(job.playbook.path), LibraryRetarget(job.playbook.path, job.vars, allow)
        loaded = ctx.playbooks.load(job)
        return [], platform, playbook_info(loaded, job.vars), PlaybookRetarget(loaded, job.vars, allow)
    loaded, platform = ctx.playbooks.checked(job)
    return plan_steps(loaded.model), platform, playbook_info(loaded, job.vars), None


def _with_options(job: DeviceJob) -> str:
    from urllib.parse import urlencode

    opts = job.connect.target_options
    if not opts or "?" in job.target:
        return job.target
    return f"{job.target}?{urlencode(opts)}"
