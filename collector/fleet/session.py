"""A fleet run from start to verdict: journal the start, run the jobs (all, or on resume those not finished),
journal every device's end and the fleet's, and judge it. The CLI draws; this module decides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .device_run import DONE, JobContext, finished
from .events import FleetEnded, FleetResumed, FleetStarted
from .executor import Executor
from .fleetdir import FleetDir, FleetSpec
from .job import DeviceJob, JobResult
from .progress import Board
from .report import Verdict, verdict


@dataclass
class Hooks:
    """What the view wants to hear about (all optional)."""

    tick: Callable[[], None] | None = None
    result: Callable[[JobResult], None] | None = None
    stopping: Callable[[], None] | None = None


@dataclass
class FleetOutcome:
    fleet: FleetDir
    results: list[JobResult]
    verdict: Verdict
    peak_running: int = 0
    skipped: list[str] = field(default_factory=list)  # resume: devices already finished before


def to_run(fleet: FleetDir, spec: FleetSpec) -> tuple[list[DeviceJob], list[JobResult]]:
    """On resume: the jobs whose device did not finish (per its own run directory), and the results of the rest."""
    state = fleet.journal().state
    again: list[DeviceJob] = []
    kept: list[JobResult] = []
    for job in spec.jobs:
        last = state.last.get(job.device)
        run_dir = fleet.run_dir(job)
        if last is not None and last.status in DONE and finished(run_dir) is not None:
            kept.append(JobResult(device=job.device, status=last.status, exit_code=last.exit_code, error=last.error,
                                  run_dir=last.run_dir, steps=last.steps, steps_ok=last.steps_ok, bytes=last.bytes,
                                  duration=last.duration))
        else:
            again.append(job)
    return again, kept


def run_fleet(fleet: FleetDir, spec: FleetSpec, ctx: JobContext, board: Board, *, resumed: bool = False,
              cleanup_steps: set[int] | None = None, hooks: Hooks | None = None,
              stop: threading.Event | None = None) -> FleetOutcome:
    hooks = hooks or Hooks()
    journal = fleet.journal()
    jobs, kept = to_run(fleet, spec) if resumed else (list(spec.jobs), [])
    for r in kept:
        p = board.devices[r.device]
        p.state, p.status, p.steps_done, p.steps_total, p.bytes = "done", r.status, r.steps_ok, r.steps, r.bytes
    started = FleetStarted(fleet_id=spec.fleet_id, devices=len(spec.jobs), workers=spec.workers,
                           playbook=spec.playbook)
    if resumed:
        started = FleetResumed(fleet_id=spec.fleet_id, devices=len(spec.jobs), workers=spec.workers,
                               playbook=spec.playbook, to_run=[j.device for j in jobs])
    journal.write(started)
    ex = Executor(jobs, ctx, journal, board, workers=spec.workers, cleanup_steps=cleanup_steps or set(),
                  stop=stop or ctx.limits.stop, on_tick=hooks.tick, on_result=hooks.result,
                  on_stopping=hooks.stopping, resumed=resumed)
    ctx.deferred_parses = []
    try:
        results = ex.run()
    except KeyboardInterrupt:  # the second interrupt: record it, then leave at once
        journal.write(FleetEnded(status="interrupted", exit_code=130))
        journal.close()
        raise
    for parse in ctx.deferred_parses:  # every device has collected: now the outputs are parsed
        parse()
    by_device = {r.device: r for r in kept}
    by_device.update(results)
    ordered = [by_device[j.device] for j in spec.jobs if j.device in by_device]
    v = verdict(ordered, ex.interrupted)
    journal.write(FleetEnded(status=v.status, exit_code=v.exit_code, counts=v.counts(ordered)))
    journal.close()
    return FleetOutcome(fleet, ordered, v, ex.peak_running, [r.device for r in kept])
