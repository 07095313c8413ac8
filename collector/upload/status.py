"""What the case has received, per destination, read from `<bundle>.upload.json` (no network access).

`parts_done`/`bytes_done` count only what a server confirmed: a 2xx for a PUT, the tus or sftp offset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .parts import PartsPlan
from .state import DestState, load_state, state_path


def parts_done(dest: DestState, plan: PartsPlan) -> int:
    if dest.scheme != "https":
        return 1 if dest.complete else 0
    return sum(1 for p in plan.parts if dest.confirmed.get(p.name, {}).get("sha256") == p.sha256)


def bytes_done(dest: DestState, plan: PartsPlan) -> int:
    if dest.scheme != "https":
        return plan.bundle_size if dest.complete else min(dest.remote_offset, plan.bundle_size)
    return sum(p.size for p in plan.parts if dest.confirmed.get(p.name, {}).get("sha256") == p.sha256)


def upload_status(bundle: Path) -> dict[str, Any]:
    """A JSON-ready report of every destination this bundle was sent to."""
    bundle = Path(bundle)
    state = load_state(bundle)
    out: dict[str, Any] = {"bundle": str(bundle), "state_file": str(state_path(bundle)), "destinations": []}
    if state is None:
        out["started"] = False
        return out
    out.update(started=True, bundle_sha256=state.bundle_sha256, bundle_size=state.bundle_size,
               last_url=state.last_url)
    for dest in state.destinations.values():
        plan = dest.parts_plan()
        if plan is None:
            continue
        out["destinations"].append(
            {
                "url": dest.url,
                "scheme": dest.scheme,
                "case": dest.case,
                "parts_total": len(plan.parts),
                "parts_done": parts_done(dest, plan),
                "bytes_total": plan.bundle_size,
                "bytes_done": bytes_done(dest, plan),
                "manifest_done": dest.manifest_confirmed or plan.single or dest.scheme != "https",
                "complete": dest.complete,
                "part_size": dest.part_size,
                "bytes_sent_total": dest.bytes_sent,
                "bytes_resent_total": dest.bytes_resent,
                "runs": dest.runs,
                "updated": dest.updated,
                "last_error": dest.last_error,
            }
        )
    return out


def format_status(status: dict[str, Any]) -> str:
    """One line per destination, for `collector upload --status`."""
    if not status.get("started"):
        return f"{status['bundle']}: no upload started"
    lines = []
    for d in status["destinations"]:
        what = "complete" if d["complete"] else "incomplete"
        parts = f"{d['parts_done']}/{d['parts_total']} parts, " if d["parts_total"] > 1 else ""
        line = f"{d['url']} (case {d['case']}): {parts}{d['bytes_done']}/{d['bytes_total']} bytes received, {what}"
        if d["last_error"] and not d["complete"]:
            line += f"; last error: {d['last_error']}"
        lines.append(line)
    return "\n".join(lines) or f"{status['bundle']}: no upload started"
