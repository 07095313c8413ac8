"""Submitting a fleet: register it in Redis (meta, each device's queue, all queued), then send one task per device
to the queue its inventory names (`queue:` on the host or a group; the default queue otherwise).

A message carries the Payload only: the job (references, never values) and the playbook text with its hash.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InventoryError
from ..fleet.job import DeviceJob
from . import fleetstate
from .broker import Outage, client, retrying
from .payload import Payload
from .settings import DEFAULT_QUEUE, QUEUE_NAME, TASK, Settings

if TYPE_CHECKING:
    from celery import Celery

    from ..fleet.fleetdir import FleetDir, FleetSpec


def queue_of(job: DeviceJob) -> str:
    return job.queue or DEFAULT_QUEUE


def check_queues(jobs: Iterable[DeviceJob]) -> None:
    """A queue name from an inventory becomes a Redis key: letters, digits and . _ : - only."""
    for job in jobs:
        if job.queue is not None and not QUEUE_NAME.fullmatch(job.queue):
            raise InventoryError(f"{job.source}: queue {job.queue!r} of {job.device}: use letters, digits and "
                                 ". _ : - (at most 100)")


def task_id(job: DeviceJob) -> str:
    return f"{job.fleet_id}-{job.slug}"


def payloads(fleet: FleetDir, spec: FleetSpec, jobs: list[DeviceJob]) -> list[Payload]:
    texts: dict[str, str] = {}
    out = []
    for job in jobs:
        if not job.playbook.sha256:  # a library name for a device of platform auto: the worker's own library
            texts[job.playbook.path] = ""
        elif job.playbook.path not in texts:
            texts[job.playbook.path] = Path(job.playbook.path).read_bytes().decode()
        out.append(Payload(job=job, playbook_text=texts[job.playbook.path], fleet_dir=fleet.path.name,
                           submitter=socket.gethostname(), logins_per_host=spec.logins_per_host,
                           logins_per_aaa=spec.logins_per_aaa))
    return out


def make_sender(settings: Settings) -> Celery:
    from .app import make_app

    return make_app(settings)


def register(settings: Settings, spec: FleetSpec, outage: Outage, only: list[DeviceJob] | None = None) -> None:
    """Open the fleet on the broker; its devices (or `only` those, on resume) queued."""
    r = client(settings.broker)
    meta = {"playbook": spec.playbook, "devices": str(len(spec.jobs)), "submitter": socket.gethostname()}
    jobs = {j.device: {"slug": j.slug, "queue": queue_of(j)} for j in (spec.jobs if only is None else only)}
    retrying(lambda: fleetstate.register(r, spec.fleet_id, meta, jobs), outage)


def send(app: Celery, items: list[Payload], outage: Outage, deadline: float | None = None,
         sent: Callable[[Payload], None] | None = None) -> None:
    """Publish each payload to its queue (waiting out a broker outage until the deadline)."""
    for p in items:
        def publish(p: Payload = p) -> None:
            app.send_task(TASK, args=[p.model_dump(mode="json")], queue=queue_of(p.job), task_id=task_id(p.job),
                          retry=False)

        retrying(publish, outage, deadline=deadline)
        if sent is not None:
            sent(p)
