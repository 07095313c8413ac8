"""`collector fleet status FLEET_DIR`: each device's state from the fleet journal and its own run directory.

States: done (finished ok or with step errors), failed (with why), started (no end recorded: running now, or
the fleet process died), not-started. `resume` lists what `collector resume FLEET_DIR` would run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .device_run import DONE, finished
from .fleetdir import FleetDir

if TYPE_CHECKING:
    from rich.table import Table


def fleet_status(path: Path) -> dict[str, Any]:
    fleet = FleetDir.open(path)
    spec = fleet.read_spec()
    state = fleet.journal().state
    devices = []
    for job in spec.jobs:
        last = state.last.get(job.device)
        run_dir = fleet.run_dir(job)
        done = finished(run_dir)
        if done is not None:
            row = {"state": "done", "status": done.get("status"), "error": None}
        elif job.device in state.started:
            row = {"state": "started", "status": "running" if state.ended is None else "unknown", "error": None}
        elif last is not None:
            row = {"state": "done" if last.status in DONE else "failed", "status": last.status, "error": last.error}
        else:
            row = {"state": "not-started", "status": None, "error": None}
        if last is not None:
            row.update(steps=last.steps, steps_ok=last.steps_ok, bytes=last.bytes)
        devices.append({"device": job.device, **row, "run_dir": fleet.rel(run_dir), "target": job.target,
                        "queue": job.queue})
    ended = state.ended
    return {"fleet_dir": str(fleet.path), "fleet_id": spec.fleet_id, "playbook": spec.playbook,
            "inventory": spec.inventory, "ended": ended.status if ended else None,
            "exit_code": ended.exit_code if ended else None, "devices": devices,
            "resume": [d["device"] for d in devices if d["state"] != "done"]}


def status_table(doc: dict[str, Any]) -> Table:
    from rich.table import Table

    from ..ui.console import clean, safe

    t = Table(title=safe(f"{Path(doc['fleet_dir']).name}: {doc['ended'] or 'not ended'}"))
    for col in ("device", "state", "status", "steps", "bytes", "why"):
        t.add_column(col, overflow="fold")
    for d in doc["devices"]:
        style = {"done": "green", "failed": "red", "started": "yellow"}.get(d["state"], "")
        t.add_row(safe(d["device"]), safe(d["state"], style), safe(d["status"] or "-"),
                  f"{d.get('steps_ok', 0)}/{d.get('steps', 0)}", f"{d.get('bytes', 0):,}",
                  safe(clean(d["error"] or "", keep_newlines=False)[:80]))
    if doc["resume"]:
        t.caption = f"`collector resume` would run {len(doc['resume'])} device(s) again"
    return t
