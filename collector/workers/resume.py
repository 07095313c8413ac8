"""`collector resume FLEET_DIR` of a fleet run with --via: devices finished before stay as they are; a device the
broker knows finished but whose run never came home (the submitter stopped) is brought home now; the rest run
again on the workers (a worker sharing the runs directory, or the one that ran it before, resumes its run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..fleet.device_run import DONE
from ..fleet.job import DeviceJob
from ..fleet.session import to_run
from . import fleetstate, keys
from .broker import connection_errors
from .importer import bring_home

if TYPE_CHECKING:
    from ..fleet.fleetdir import FleetSpec
    from .collect import Collector


def resume_from(c: Collector, spec: FleetSpec) -> list[DeviceJob]:
    """Fill the collector with what is done; the jobs to send again. Reads events only from now on."""
    again, kept = to_run(c.fleet, spec)
    for r in kept:
        c.results[r.device] = r
        p = c.board.devices[r.device]
        p.state, p.status, p.steps_done, p.steps_total, p.bytes = "done", r.status, r.steps_ok, r.steps, r.bytes
    todo: list[DeviceJob] = []
    for job in again:
        record = fleetstate.done_record(c.r, spec.fleet_id, job.device)
        if record is not None and record.get("result", {}).get("status") in DONE:
            result = bring_home(c.r, c.fleet, job, record)
            sealed = record.get("sealed") or {}
            if result.ok:
                if sealed.get("mode") == "redis":
                    fleetstate.forget_transfer(c.r, str(sealed.get("key")))
                c.record(result)
                continue
        c.r.hdel(keys.done(spec.fleet_id), job.device)  # it runs again: a worker must not skip it as finished
        todo.append(job)
    try:
        last = c.r.xrevrange(keys.events(spec.fleet_id), count=1)
    except connection_errors():
        last = []
    if last:
        entry = last[0][0]
        c.last_id = entry.decode() if isinstance(entry, bytes) else str(entry)
    return todo
