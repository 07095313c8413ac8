"""Bringing a finished device home: the run a worker sealed is fetched (Redis transfer) or found (shared runs
directory), checked against its seal, placed under the fleet directory's devices/<device>/, and pointed at the
submitter's own copy of the playbook (same SHA-256). The device's result then names that run directory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CollectorError, StoreError
from ..fleet.device_run import finished
from ..fleet.fleetdir import FleetDir
from ..fleet.job import DeviceJob, JobResult
from ..store.fsutil import atomic_write_bytes
from . import transfer
from .seal import file_sha256, tree_digest
from .transfer import Sealed

if TYPE_CHECKING:
    import redis

CORRUPT = 20  # StoreError's exit code: the run could not be brought home intact


def bring_home(r: redis.Redis, fleet: FleetDir, job: DeviceJob, record: dict[str, Any]) -> JobResult:
    """The device's JobResult with its run placed in this fleet directory (or why it could not be)."""
    result = JobResult.model_validate(record["result"]).model_copy(update={"worker": record.get("worker")})
    sealed_doc = record.get("sealed")
    if not sealed_doc:
        return result.model_copy(update={"run_dir": None})
    sealed = Sealed.from_json(sealed_doc)
    parent = fleet.device_dir(job)
    try:
        run = _place(r, parent, sealed)
        _point_at_playbook(run, job)
    except (CollectorError, OSError, ValueError) as exc:
        why = exc.message if isinstance(exc, CollectorError) else f"{type(exc).__name__}: {exc}"
        return result.model_copy(update={"status": "failed", "exit_code": CORRUPT, "run_dir": None,
                                         "error": f"the run from worker {record.get('worker')} was not brought home:"
                                                  f" {why}"})
    return result.model_copy(update={"run_dir": fleet.rel(run)})


def _place(r: redis.Redis, parent: Path, sealed: Sealed) -> Path:
    target = parent / sealed.run_name
    if sealed.mode == "shared":
        if not target.is_dir():
            raise StoreError(f"the shared run directory {target} is not there")
        if tree_digest(target) != sealed.digest:
            raise StoreError(f"{target.name} differs from what the worker sealed")
        return target
    if sealed.mode != "redis":
        raise StoreError(f"unknown transfer mode {sealed.mode!r}")
    if target.is_dir():
        if finished(target) is not None:
            raise StoreError(f"{target} exists already")
        shutil.rmtree(target)  # the interrupted run of an earlier attempt: the one sent now continues it
    try:
        return transfer.receive(r, sealed, parent)
    except StoreError:
        shutil.rmtree(target, ignore_errors=True)  # never leave a run that failed its check half unpacked
        raise


def _point_at_playbook(run: Path, job: DeviceJob) -> None:
    """run.json recorded the worker's copy of the playbook; point it at ours when that one is not here."""
    path = run / "run.json"
    info = json.loads(path.read_text())
    pb = info.get("playbook") or {}
    recorded = Path(str(pb.get("path") or ""))
    if recorded.is_file() and file_sha256(recorded) == pb.get("sha256"):
        return
    mine = Path(job.playbook.path)
    if pb.get("sha256") == job.playbook.sha256 and mine.is_file():
        pb["path"] = str(mine)
        info["playbook"] = pb
        atomic_write_bytes(path, (json.dumps(info, indent=2) + "\n").encode())
