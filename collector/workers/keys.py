"""Every Redis key collector's workers and submitters use besides Celery's own (one place, one prefix).

Fleet ids and device slugs are checked before they become part of a key (hex ids, slug characters only).
"""

from __future__ import annotations

import re

from ..errors import UsageError

PREFIX = "collector:"
_FLEET_ID = re.compile(r"[0-9a-f]{8,64}")
_SLUG = re.compile(r"[A-Za-z0-9._-]{1,100}")
FLEET_TTL = 7 * 86400  # a fleet's keys go away a week after its last activity
ENDED_TTL = 86400  # and a day after the submitter ended it


def fleet_id(value: str) -> str:
    if not _FLEET_ID.fullmatch(value):
        raise UsageError(f"{value!r} is not a fleet id (hex, as `collector run --via` prints it)",
                         hint="give the id from the run's output or its fleet.json")
    return value


def slug(value: str) -> str:
    if not _SLUG.fullmatch(value) or value in (".", ".."):
        raise UsageError(f"{value!r} is not a device folder name")
    return value


def meta(fid: str) -> str:
    """hash: playbook, devices, created, state (open | closed), closed_why"""
    return f"{PREFIX}fleet:{fleet_id(fid)}"


def jobs(fid: str) -> str:
    """hash: device -> {"slug", "queue"}"""
    return f"{PREFIX}fleet:{fleet_id(fid)}:jobs"


def status(fid: str) -> str:
    """hash: device -> {"state", "worker", "at", "status", "error"}"""
    return f"{PREFIX}fleet:{fleet_id(fid)}:status"


def events(fid: str) -> str:
    """stream: started / finished events from the workers, read by the submitter from where it left off"""
    return f"{PREFIX}fleet:{fleet_id(fid)}:events"


def done(fid: str) -> str:
    """hash: device -> its finished event (a redelivered job of a finished device does nothing)"""
    return f"{PREFIX}fleet:{fleet_id(fid)}:done"


def fleet_keys(fid: str) -> list[str]:
    return [meta(fid), jobs(fid), status(fid), events(fid), done(fid)]


def lease(fid: str, device_slug: str) -> str:
    """string with a TTL: the worker invocation that runs this device now"""
    return f"{PREFIX}lease:{fleet_id(fid)}:{slug(device_slug)}"


def transfer(fid: str, device_slug: str, nonce: str) -> str:
    """list: the sealed device run in bounded chunks"""
    return f"{PREFIX}xfer:{fleet_id(fid)}:{slug(device_slug)}:{slug(nonce)}"


def worker(name: str) -> str:
    """string with a TTL: a live worker's heartbeat (queues, concurrency, running devices)"""
    return f"{PREFIX}worker:{name}"


#: set: the names of workers that ever beat (a name whose heartbeat key expired is dropped by the next reader)
WORKERS = f"{PREFIX}workers"
