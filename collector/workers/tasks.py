"""The device task (`collector.device`, late ack, rejected when its worker is lost) and the worker signals it
needs: each message's delivery tag (to keep it visible while the device runs), the heartbeat, and SIGTERM's
graceful stop (finish the running devices; past --stop-timeout, interrupt them and hand their jobs back).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Task
from celery.exceptions import Reject
from celery.signals import task_received, worker_ready, worker_shutting_down

from . import heartbeat
from .app import app
from .claim import HandBack
from .execute import BadPayload, run_task
from .runtime import current
from .settings import TASK

log = logging.getLogger("collector.workers")


@app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=0)
def device(self: Task, payload: dict[str, Any]) -> dict[str, Any]:
    rt = current()
    heartbeat.ensure(rt)
    try:
        return run_task(rt, str(self.request.id), payload)
    except HandBack:
        raise Reject("handed back: this worker is stopping", requeue=True) from None
    except BadPayload as exc:
        log.error("%s", exc)
        raise Reject(str(exc), requeue=False) from None


@task_received.connect
def _remember_tag(sender: Any = None, request: Any = None, **_: Any) -> None:
    message = getattr(request, "message", None)
    tag = getattr(message, "delivery_tag", None)
    if request is not None and tag:
        current().tags[str(request.id)] = str(tag)


@worker_ready.connect
def _ready(sender: Any = None, **_: Any) -> None:
    rt = current()
    heartbeat.ensure(rt)
    log.info("worker %s ready: queues %s, %d device(s) at once, runs in %s", rt.name, ",".join(rt.queues),
             rt.concurrency, rt.runs_dir)


@worker_shutting_down.connect
def _shutting_down(sig: Any = None, how: Any = None, exitcode: Any = None, **_: Any) -> None:
    rt = current()
    rt.stopping.set()
    running = len(rt.snapshot())
    if rt.stop_timeout is None:
        log.info("stopping (%s): finishing %d running device(s)", sig, running)
        return
    log.info("stopping (%s): finishing %d running device(s); after %.0fs they are interrupted and handed back",
             sig, running, rt.stop_timeout)
    timer = threading.Timer(rt.stop_timeout, rt.hand_back)
    timer.daemon = True
    timer.start()
