"""Claiming a device before running it, in one atomic step (a Lua script, one round trip): a job of a closed
fleet is dropped, a finished device is not run again (idempotent by fleet id + device), a free device is taken
(lease, status "running on this worker", the `started` event) — and a device another invocation holds is waited
for, then taken over if its holder's lease expires (the holder died), or left alone if it finished.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from . import keys
from .broker import retrying
from .runtime import Running, Runtime

log = logging.getLogger("collector.workers")

_CLAIM = """
local state = redis.call('hget', KEYS[1], 'state')
if (not state) or state == 'closed' then return {'closed'} end
local done = redis.call('hget', KEYS[2], ARGV[1])
if done then return {'done', done} end
if redis.call('set', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then
  redis.call('hset', KEYS[4], ARGV[1], ARGV[4])
  redis.call('xadd', KEYS[5], '*', 'type', 'started', 'device', ARGV[1], 'data', ARGV[5])
  return {'run'}
end
return {'held', redis.call('get', KEYS[3]) or ''}
"""


class HandBack(Exception):
    """This worker is stopping: the job goes back to its queue for another worker."""


@dataclass
class Claim:
    kind: str  # run | done | closed
    record: dict[str, Any] | None = None


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def claim(rt: Runtime, run: Running, slug: str) -> Claim:
    r = rt.redis
    key = keys.lease(run.fid, slug)
    assert rt.outage is not None
    said = False

    def attempt() -> Any:
        status = json.dumps({"state": "running", "worker": rt.name, "at": time.time()})
        return r.eval(_CLAIM, 5, keys.meta(run.fid), keys.done(run.fid), key, keys.status(run.fid),
                      keys.events(run.fid), run.device, run.invocation, int(rt.settings.lease * 1000), status,
                      json.dumps({"worker": rt.name}))

    while True:
        got = retrying(attempt, rt.outage)
        kind = _s(got[0])
        if kind == "run":
            run.lease_key = key
            return Claim("run")
        if kind == "done":
            return Claim("done", json.loads(got[1]))
        if kind == "closed":
            return Claim("closed")
        if not said:
            log.info("device %s of fleet %s is being run by %s: waiting for it to finish or to expire",
                     run.device, run.fid, _s(got[1]))
            said = True
        if run.stop.wait(rt.settings.heartbeat):
            raise HandBack()
