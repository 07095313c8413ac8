"""Claiming a device before running it: a job of a closed fleet is dropped, a finished device is not run again
(idempotent by fleet id + device), and a device another invocation holds is waited for — then taken over if its
holder's lease expires (the holder died), or left alone if it finished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from . import fleetstate, keys, lease
from .broker import retrying
from .runtime import Running, Runtime

log = logging.getLogger("collector.workers")


class HandBack(Exception):
    """This worker is stopping: the job goes back to its queue for another worker."""


@dataclass
class Claim:
    kind: str  # run | done | closed
    record: dict[str, Any] | None = None


def claim(rt: Runtime, run: Running, slug: str) -> Claim:
    r = rt.redis
    key = keys.lease(run.fid, slug)
    assert rt.outage is not None

    def attempt() -> Claim | None:
        if fleetstate.is_closed(r, run.fid):
            return Claim("closed")
        record = fleetstate.done_record(r, run.fid, run.device)
        if record is not None:
            return Claim("done", record)
        if lease.take(r, key, run.invocation, rt.settings.lease):
            return Claim("run")
        return None

    said = False
    while True:
        got = retrying(attempt, rt.outage)
        if got is not None:
            if got.kind == "run":
                run.lease_key = key
            return got
        if not said:
            holder = retrying(lambda: lease.holder_of(r, key), rt.outage)
            log.info("device %s of fleet %s is being run by %s: waiting for it to finish or to expire",
                     run.device, run.fid, holder)
            said = True
        if run.stop.wait(rt.settings.heartbeat):
            raise HandBack()
