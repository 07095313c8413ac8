"""The worker's heartbeat: every few seconds it says it is alive (queues, concurrency, running devices), renews
the lease and the message visibility of every device it runs, publishes their progress, and stops the devices of
a fleet its submitter closed (timeout, Ctrl-C). A broker outage is logged once and waited out.
"""

from __future__ import annotations

import json
import logging
import threading

from . import fleetstate, keys, lease
from .broker import connection_errors
from .runtime import Running, Runtime

log = logging.getLogger("collector.workers")


def beat(rt: Runtime) -> None:
    """One heartbeat (raises a broker connection error when Redis is down)."""
    r = rt.redis
    period = rt.settings.heartbeat
    pipe = r.pipeline()
    pipe.set(keys.worker(rt.name), json.dumps(rt.heartbeat_doc()), px=int(period * 3000))
    pipe.sadd(keys.WORKERS, rt.name)
    pipe.execute()
    runs = rt.snapshot()
    closed = {fid for fid in {run.fid for run in runs} if fleetstate.closed_by_submitter(r, fid)}
    for run in runs:
        if run.delivery_tag:
            lease.keep_visible(r, run.delivery_tag)
        if run.lease_key:
            _keep_lease(rt, run)
        if run.fid in closed and not run.stop.is_set():
            log.info("fleet %s was closed by its submitter: stopping device %s", run.fid, run.device)
            run.stop.set()
        p = run.progress
        if run.lease_key and p is not None and not run.stop.is_set():
            fleetstate.set_running(r, run.fid, run.device, worker=rt.name, step=p.step,
                                   steps_done=p.steps_done, steps=p.steps_total, bytes=p.bytes)


def _keep_lease(rt: Runtime, run: Running) -> None:
    assert run.lease_key is not None
    r = rt.redis
    ttl = rt.settings.lease
    if lease.renew(r, run.lease_key, run.invocation, ttl) or lease.take(r, run.lease_key, run.invocation, ttl):
        return
    holder = lease.holder_of(r, run.lease_key)
    log.warning("device %s was taken over by %s (this worker could not renew its claim): it stops here",
                run.device, holder)
    run.lease_key = None  # never release a lease someone else holds
    run.stop.set()


class Heartbeat:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="collector-heartbeat", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        errors = connection_errors()
        assert self.rt.outage is not None
        while not self._stop.is_set():
            try:
                beat(self.rt)
            except errors as exc:
                self.rt.outage.down(exc)
            except Exception:  # a bug must not stop the heartbeat (the devices would be redelivered)
                log.exception("heartbeat failed")
            else:
                self.rt.outage.up()
            self._stop.wait(self.rt.settings.heartbeat)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.rt.redis.delete(keys.worker(self.rt.name))
        except connection_errors():
            pass


_beats: dict[int, Heartbeat] = {}
_lock = threading.Lock()


def ensure(rt: Runtime) -> Heartbeat:
    """The runtime's heartbeat, started once."""
    with _lock:
        if id(rt) not in _beats:
            _beats[id(rt)] = Heartbeat(rt).start()
        return _beats[id(rt)]
