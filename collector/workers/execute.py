"""One device job on a worker: claim it, run exactly the fleet's device job (runner, resume, cleanup guarantee) in
the worker's runs directory, seal the run and send it home, then record the device as finished — in that order, so
a crash anywhere before the record leads to a redelivery that runs (or resumes) the device, never to a loss.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import CollectorError
from ..fleet.device_run import JobContext, run_job
from ..fleet.fleetdir import FleetDir
from ..fleet.job import DeviceJob, JobResult
from ..fleet.progress import Board, DeviceObserver
from . import fleetstate, lease, transfer
from .broker import retrying
from .claim import Claim, HandBack, claim
from .local import build_context, localize, shares_fleet_dir
from .payload import Payload
from .runtime import Running, Runtime
from .seal import tree_digest
from .transfer import Sealed

log = logging.getLogger("collector.workers")


class BadPayload(Exception):
    """A message that is not a collector device job: rejected, never retried."""


def run_task(rt: Runtime, task_id: str, raw: Any) -> dict[str, Any]:
    try:
        p = Payload.model_validate(raw)
    except ValidationError as exc:
        raise BadPayload(f"task {task_id}: not a device job ({exc.error_count()} problems)") from None
    job = p.job
    run = Running(invocation=f"{rt.name}/{task_id}/{os.urandom(4).hex()}", fid=job.fleet_id, device=job.device,
                  delivery_tag=rt.tags.pop(task_id, None))
    rt.add(run)
    picked = time.time()
    try:
        got = claim(rt, run, job.slug)
        if got.kind != "run":
            return _skipped(rt, p, got)
        return _run_claimed(rt, run, p, picked)
    finally:
        if run.lease_key:
            key, run.lease_key = run.lease_key, None
            assert rt.outage is not None
            retrying(lambda: lease.release(rt.redis, key, run.invocation), rt.outage)
        rt.remove(run)


def _skipped(rt: Runtime, p: Payload, got: Claim) -> dict[str, Any]:
    if got.kind == "done":
        log.info("device %s of fleet %s finished already: nothing to do", p.job.device, p.job.fleet_id)
        result = (got.record or {}).get("result") or {}
        return {"device": p.job.device, "status": result.get("status"), "worker": (got.record or {}).get("worker"),
                "duplicate": True}
    log.info("fleet %s is closed: device %s is not started", p.job.fleet_id, p.job.device)
    return {"device": p.job.device, "status": "not-started", "worker": rt.name, "dropped": True}


def _run_claimed(rt: Runtime, run: Running, p: Payload, picked: float) -> dict[str, Any]:
    job = p.job
    assert rt.outage is not None
    r = rt.redis
    fleet_path = rt.runs_dir / p.fleet_dir
    shared = shares_fleet_dir(fleet_path, job.fleet_id)
    log.info("device %s of fleet %s: started (queue %s%s)", job.device, job.fleet_id, job.queue or "default",
             ", shared runs directory" if shared else "")
    started = time.monotonic()
    result, ctx = _run_job(rt, run, p, fleet_path)
    ran = time.monotonic()
    if rt.handing_back.is_set() and result.status in ("interrupted", "not-started") and run.lease_key:
        closed = retrying(lambda: fleetstate.closed_by_submitter(r, job.fleet_id), rt.outage)
        if not closed:
            retrying(lambda: fleetstate.set_status(r, job.fleet_id, job.device, "queued",
                                                   handed_back_by=rt.name), rt.outage)
            log.info("device %s handed back to queue %s (this worker is stopping)", job.device, job.queue)
            raise HandBack()
    if run.lease_key is None:  # another invocation took the device over: it reports, this one does not
        return {"device": job.device, "status": result.status, "worker": rt.name, "superseded": True}
    sealed = _seal(rt, job, ctx.fleet, result, shared, run.invocation)
    timing = {"picked_at": picked, "run_ms": round((ran - started) * 1000, 1),
              "seal_ms": round((time.monotonic() - ran) * 1000, 1), "finished_at": time.time()}
    record = {"result": result.model_dump(mode="json"), "worker": rt.name, "sealed": sealed.to_json() if sealed
              else None, "timing": timing}
    retrying(lambda: fleetstate.finished(r, job.fleet_id, job.device, record), rt.outage)
    log.info("device %s of fleet %s: %s (%d/%d steps, %d bytes)", job.device, job.fleet_id, result.status,
             result.steps_ok, result.steps, result.bytes)
    return {"device": job.device, "status": result.status, "worker": rt.name}


def _run_job(rt: Runtime, run: Running, p: Payload, fleet_path: Path) -> tuple[JobResult, JobContext]:
    from ..runner.plan import plan_steps

    job = p.job
    try:
        ctx = rt.context(job.fleet_id, fleet_path, lambda path: build_context(path, p))
        local: DeviceJob = localize(p, rt.runs_dir)
        cleanup = ({s.index for s in plan_steps(ctx.playbooks.load(local).model) if s.kind == "cleanup"}
                   if local.playbook.sha256 else set())  # a library name: its steps are known after detection
    except CollectorError as exc:
        ctx = JobContext(FleetDir(fleet_path))
        return JobResult(device=job.device, status="not-started", exit_code=exc.exit_code,
                         error=f"on worker {rt.name}: {exc.message}", hint=exc.hint or None), ctx
    board = Board.of([job.device])
    run.progress = board.devices[job.device]
    observer = DeviceObserver(board, job.device, run.stop, cleanup)
    try:
        return run_job(local, ctx, observer), ctx
    except KeyboardInterrupt:  # a stop that escaped the run: the device's run stays resumable
        return JobResult(device=job.device, status="interrupted", exit_code=130,
                         error=f"interrupted on worker {rt.name}", run_dir=ctx.fleet.rel(ctx.fleet.run_dir(local))), ctx


def _seal(rt: Runtime, job: DeviceJob, fleet: FleetDir, result: JobResult, shared: bool,
          invocation: str) -> Sealed | None:
    if not result.run_dir:
        return None
    run_dir = fleet.path / result.run_dir
    if not run_dir.is_dir():
        return None
    if shared:
        return Sealed(run_dir.name, tree_digest(run_dir), "shared")
    assert rt.outage is not None
    nonce = invocation.rsplit("/", 1)[-1]
    return retrying(lambda: transfer.send(rt.redis, run_dir, job.fleet_id, job.slug, nonce), rt.outage)
