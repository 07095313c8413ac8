"""The per-device section of a fleet bundle: every device of the fleet, its status, why it failed, and which
`runs/<label>/` folder holds its output. Every string passes the bundle's cleaner (redaction, pseudonyms).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

Clean = Callable[[str], str]


def fleet_record(section: dict[str, Any], labels: list[str], clean: Clean) -> dict[str, Any]:
    devices = []
    for d in section.get("devices") or []:
        index = d.get("run_index")
        label = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else None
        devices.append({
            "device": clean(str(d.get("device", ""))),
            "target": clean(str(d.get("target", ""))),
            "platform": d.get("platform"),
            "groups": [clean(str(g)) for g in d.get("groups") or []],
            "status": d.get("status"),
            "error": clean(str(d["error"])) if d.get("error") else None,
            "run": f"runs/{label}" if label else None,
        })
    return {
        "fleet_id": clean(str(section.get("fleet_id", ""))),
        "playbook": clean(str(section.get("playbook", ""))),
        "inventory_kind": section.get("inventory_kind"),
        "devices": devices,
        "by_status": dict(sorted(Counter(str(d["status"]) for d in devices).items())),
    }


def learn_names(section: dict[str, Any], learn: Callable[[str | None, str | None], None]) -> None:
    """Device names and targets are host names to pseudonymise consistently with the runs'."""
    from .manifest import target_parts

    for d in section.get("devices") or []:
        host, user = target_parts(str(d.get("target", "")))
        learn(host, user)
        learn(str(d.get("device", "")) or None, None)


def render_fleet(record: dict[str, Any], add: Callable[[str], None]) -> None:
    """README.txt lines: one per device, then what failed and why."""
    devices = record["devices"]
    counts = ", ".join(f"{n} {s}" for s, n in record["by_status"].items())
    add(f"Fleet {record['fleet_id']}: playbook {record['playbook']}, {len(devices)} devices ({counts})")
    add("")
    add(f"  {'device':<28} {'status':<22} output")
    for d in devices:
        add(f"  {d['device'][:28]:<28} {str(d['status'])[:22]:<22} {d['run'] or '(nothing collected)'}")
    failed = [d for d in devices if d["status"] not in ("ok", "completed-with-errors")]
    if failed:
        add("")
        add("  Devices that did not complete:")
        for d in failed:
            add(f"   - {d['device']} ({d['target']}): {d['status']}" + (f": {d['error']}" if d["error"] else ""))
    add("")
