"""What a fleet gives its case bundle: the run directories worth bundling, and the per-device section.

A device whose run has something of the device goes in as a run; one that never reached its device (unreachable,
refused login, guard) is listed in the section with why. The bundle cleans every string of the section.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .fleetdir import FleetDir

NOTHING = ("failed-before-start",)


def fleet_section(fleet: FleetDir) -> tuple[list[Path], dict[str, Any]]:
    spec = fleet.read_spec()
    state = fleet.journal().state
    run_dirs: list[Path] = []
    devices: list[dict[str, Any]] = []
    for job in spec.jobs:
        run_dir = fleet.run_dir(job)
        info = _info(run_dir)
        last = state.last.get(job.device)
        status = str(info.get("status") or (last.status if last else "not-started"))
        index = None
        if run_dir is not None and status not in NOTHING and (run_dir / "journal.jsonl").exists():
            index = len(run_dirs)
            run_dirs.append(run_dir)
        devices.append({"device": job.device, "target": job.target, "platform": job.platform,
                        "groups": list(job.groups), "status": status,
                        "error": last.error if last is not None and last.status == status else None,
                        "run_index": index})
    section = {"fleet_id": spec.fleet_id, "playbook": spec.playbook, "inventory_kind": spec.inventory_kind,
               "devices": devices}
    return run_dirs, section


def _info(run_dir: Path | None) -> dict[str, Any]:
    if run_dir is None:
        return {}
    try:
        data = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
