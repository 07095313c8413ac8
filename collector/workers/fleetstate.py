"""A distributed fleet's shared state in Redis: its meta (open or closed), each device's queue and live status,
the event stream the submitter reads (started / finished), and the finished devices (idempotence).

Only names, states, counts and reasons go here: never a secret, never device output.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import keys

if TYPE_CHECKING:
    import redis

OPEN, CLOSED = "open", "closed"


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def register(r: redis.Redis, fid: str, meta: dict[str, str], jobs: dict[str, dict[str, str]]) -> None:
    """The submitter announces a fleet: its meta, every device's queue, every device queued."""
    now = time.time()
    pipe = r.pipeline()
    fields: dict[Any, Any] = {**meta, "state": OPEN, "created": str(now)}
    pipe.hset(keys.meta(fid), mapping=fields)
    if jobs:
        pipe.hset(keys.jobs(fid), mapping={d: json.dumps(j) for d, j in jobs.items()})
        pipe.hset(keys.status(fid), mapping={d: json.dumps({"state": "queued", "at": now}) for d in jobs})
    for key in keys.fleet_keys(fid):
        pipe.expire(key, keys.FLEET_TTL)
    pipe.execute()


def exists(r: redis.Redis, fid: str) -> bool:
    return bool(r.exists(keys.meta(fid)))


def meta(r: redis.Redis, fid: str) -> dict[str, str]:
    return {_s(k): _s(v) for k, v in r.hgetall(keys.meta(fid)).items()}


def closed_by_submitter(r: redis.Redis, fid: str) -> bool:
    """Explicitly closed (timeout, Ctrl-C, ended). A fleet the broker lost is not: its running devices go on."""
    state = r.hget(keys.meta(fid), "state")
    return state is not None and _s(state) == CLOSED


def close(r: redis.Redis, fid: str, why: str, ttl: int = keys.ENDED_TTL) -> None:
    pipe = r.pipeline()
    pipe.hset(keys.meta(fid), mapping={"state": CLOSED, "closed_why": why})
    for key in keys.fleet_keys(fid):
        pipe.expire(key, ttl)
    pipe.execute()


def set_status(r: redis.Redis, fid: str, device: str, state: str, **extra: Any) -> None:
    r.hset(keys.status(fid), device, json.dumps({"state": state, "at": time.time(), **extra}))


_RUNNING = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""


def set_running(r: redis.Redis, fid: str, device: str, **extra: Any) -> bool:
    """`running` with progress, unless the device has finished meanwhile (one atomic step: a heartbeat that took
    its snapshot before the device finished must not turn `done` back into `running`)."""
    doc = json.dumps({"state": "running", "at": time.time(), **extra})
    return bool(r.eval(_RUNNING, 2, keys.done(fid), keys.status(fid), device, doc))


def statuses(r: redis.Redis, fid: str) -> dict[str, dict[str, Any]]:
    return {_s(k): json.loads(v) for k, v in r.hgetall(keys.status(fid)).items()}


def jobs(r: redis.Redis, fid: str) -> dict[str, dict[str, Any]]:
    return {_s(k): json.loads(v) for k, v in r.hgetall(keys.jobs(fid)).items()}


def finished(r: redis.Redis, fid: str, device: str, record: dict[str, Any]) -> None:
    """One atomic step: the device is done (idempotence), its status, and the event the submitter imports."""
    data = json.dumps(record)
    state = "done" if record["result"]["status"] in ("ok", "completed-with-errors") else "failed"
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.done(fid), device, data)
    pipe.hset(keys.status(fid), device, json.dumps({
        "state": state, "worker": record.get("worker"), "at": time.time(), "status": record["result"]["status"],
        "error": record["result"].get("error")}))
    pipe.xadd(keys.events(fid), {"type": "finished", "device": device, "data": data})
    pipe.execute()


def done_record(r: redis.Redis, fid: str, device: str) -> dict[str, Any] | None:
    data = r.hget(keys.done(fid), device)
    return json.loads(data) if data else None


@dataclass
class Event:
    id: str
    type: str
    device: str
    data: dict[str, Any]


def read_events(r: redis.Redis, fid: str, after: str, block_ms: int) -> list[Event]:
    found: Any = r.xread({keys.events(fid): after}, count=200, block=block_ms)
    out: list[Event] = []
    for _stream, entries in found or []:
        for entry_id, fields in entries:
            f = {_s(k): _s(v) for k, v in fields.items()}
            out.append(Event(_s(entry_id), f.get("type", ""), f.get("device", ""), json.loads(f.get("data") or "{}")))
    return out


def live_workers(r: redis.Redis) -> dict[str, dict[str, Any]]:
    """name -> heartbeat document of every worker whose heartbeat has not expired."""
    names = sorted(_s(n) for n in r.smembers(keys.WORKERS))
    if not names:
        return {}
    values = r.mget([keys.worker(n) for n in names])
    gone = [n for n, v in zip(names, values, strict=True) if not v]
    if gone:
        r.srem(keys.WORKERS, *gone)
    return {n: json.loads(v) for n, v in zip(names, values, strict=True) if v}


def served_queues(workers: Iterable[dict[str, Any]]) -> set[str]:
    return {q for w in workers for q in w.get("queues", [])}


def forget_transfer(r: redis.Redis, key: str) -> None:
    if key.startswith(keys.PREFIX + "xfer:"):
        r.delete(key)
