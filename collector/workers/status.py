"""`collector fleet status FLEET_ID`: a distributed fleet as the broker knows it — per device its queue and state
(queued, and whether any live worker serves that queue; running on worker X, or on a worker that stopped
heartbeating; done; failed and why), and the live workers with their queues.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..errors import RemoteError, UsageError
from . import fleetstate, keys
from .broker import client, connection_errors, shown

if TYPE_CHECKING:
    from rich.table import Table


def remote_status(url: str, fid: str) -> dict[str, Any]:
    keys.fleet_id(fid)
    r = client(url)
    try:
        meta = fleetstate.meta(r, fid)
        jobs = fleetstate.jobs(r, fid)
        states = fleetstate.statuses(r, fid)
        workers = fleetstate.live_workers(r)
    except connection_errors() as exc:
        raise RemoteError(f"cannot reach the broker {shown(url)}: {exc}") from None
    if not meta:
        raise UsageError(f"the broker {shown(url)} knows no fleet {fid}",
                         hint="a fleet's state is kept a day after it ended; its fleet directory has the rest")
    served: dict[str, list[str]] = {}
    for name, doc in sorted(workers.items()):
        for q in doc.get("queues", []):
            served.setdefault(q, []).append(name)
    devices = [_device(name, job, states.get(name, {}), workers, served) for name, job in sorted(jobs.items())]
    return {"fleet_id": fid, "broker": shown(url), "state": meta.get("state"), "closed_why": meta.get("closed_why"),
            "playbook": meta.get("playbook"), "submitter": meta.get("submitter"), "devices": devices,
            "workers": [{"name": n, "queues": d.get("queues", []), "concurrency": d.get("concurrency"),
                         "running": len(d.get("running", []))} for n, d in sorted(workers.items())],
            "counts": _counts(devices)}


def _device(name: str, job: dict[str, Any], st: dict[str, Any], workers: dict[str, Any],
            served: dict[str, list[str]]) -> dict[str, Any]:
    queue = str(job.get("queue") or "")
    state = str(st.get("state") or "queued")
    worker = st.get("worker")
    why = st.get("error")
    if state == "queued":
        why = None if served.get(queue) else f"no live worker serves queue {queue}"
        if st.get("handed_back_by"):
            why = f"handed back by {st['handed_back_by']} (it stopped)" + (f"; {why}" if why else "")
    elif state == "running" and worker not in workers:
        why = f"worker {worker} stopped heartbeating; the job is redelivered after the visibility timeout"
    age = round(time.time() - float(st.get("at") or time.time()), 1)
    out = {"device": name, "queue": queue, "state": state, "worker": worker, "status": st.get("status"),
           "why": why, "since_s": age}
    if state == "running":
        out.update({k: st[k] for k in ("step", "steps_done", "steps", "bytes") if k in st})
    return out


def _counts(devices: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in devices:
        out[d["state"]] = out.get(d["state"], 0) + 1
    return dict(sorted(out.items()))


def remote_table(doc: dict[str, Any]) -> Table:
    from rich.table import Table

    from ..ui.console import clean, safe

    title = f"fleet {doc['fleet_id']} via {doc['broker']}: {doc['state']}"
    t = Table(title=safe(title + (f" ({doc['closed_why']})" if doc.get("closed_why") else "")))
    for col in ("device", "queue", "state", "worker", "why"):
        t.add_column(col, overflow="fold")
    for d in doc["devices"]:
        style = {"done": "green", "failed": "red", "running": "yellow"}.get(d["state"], "")
        state = d["state"] + (f" ({d['status']})" if d.get("status") and d["state"] != "running" else "")
        if d["state"] == "running" and d.get("steps"):
            state += f" {d.get('steps_done', 0)}/{d['steps']}"
        t.add_row(safe(d["device"]), safe(d["queue"]), safe(state, style), safe(d["worker"] or "-"),
                  safe(clean(d["why"] or "", keep_newlines=False)[:100]))
    live = ", ".join(f"{w['name']} ({','.join(w['queues'])})" for w in doc["workers"]) or "none"
    t.caption = clean(f"live workers: {live}", keep_newlines=False)
    return t
