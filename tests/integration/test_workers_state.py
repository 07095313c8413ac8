"""Fleet state in a real Redis: a heartbeat that took its snapshot before a device finished never turns the
device's `done` back into `running` (the status `fleet status` shows after the end)."""

from __future__ import annotations

import json

import pytest
import redis

from collector.workers import fleetstate, keys
from tests.servers.redis import RedisServer, redis_module  # noqa: F401  (fixture)

pytestmark = pytest.mark.servers


def test_running_never_overwrites_a_finished_device(redis_module: RedisServer) -> None:  # noqa: F811
    r = redis.Redis.from_url(redis_module.url)
    fid = "ab" * 8
    try:
        assert fleetstate.set_running(r, fid, "R1", worker="w1", steps_done=1)  # a live device: shown running
        assert json.loads(r.hget(keys.status(fid), "R1") or b"{}")["state"] == "running"
        fleetstate.finished(r, fid, "R1", {"result": {"status": "ok"}, "worker": "w1"})
        assert not fleetstate.set_running(r, fid, "R1", worker="w1", steps_done=3)  # the late heartbeat
        assert json.loads(r.hget(keys.status(fid), "R1") or b"{}")["state"] == "done"
        assert fleetstate.set_running(r, fid, "R2", worker="w1")  # other devices are not affected
    finally:
        r.delete(keys.status(fid), keys.done(fid), keys.events(fid))
        r.close()
