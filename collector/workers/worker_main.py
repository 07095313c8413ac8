"""Starting a worker: the Celery worker of collector's app with the threads pool (N device sessions in one
process), the queues it serves, our runtime (runs directory, heartbeat, graceful stop) and stderr logging.

SIGTERM: warm shutdown (running devices finish; past the stop timeout they are interrupted, clean up, and their
jobs go back to the queue). A second SIGTERM/SIGINT, or SIGQUIT: cold shutdown (unacked jobs are restored).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from .runtime import Runtime, install
from .settings import Settings


@dataclass
class WorkerOptions:
    settings: Settings
    queues: list[str]
    runs_dir: Path
    concurrency: int = 4
    name: str | None = None
    stop_timeout: float | None = 60.0
    verbose: int = 0
    log_file: Path | None = None


#: what a device run needs, imported before the first job (the first device does not pay for the imports)
PRELOAD = ("collector.fleet.device_run", "collector.runner.runner", "collector.runner.plan", "collector.playbook",
           "collector.platforms", "collector.transports.factory", "collector.transports.ssh",
           "collector.transports.telnet", "collector.workers.execute", "paramiko")


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


def _logging_is_ours(**_: object) -> None:
    """Celery's setup_logging hook: logging is configured already (one masked stderr handler)."""


def start(opts: WorkerOptions) -> int:
    """Run the worker until it is stopped; its exit code."""
    os.environ.update(opts.settings.to_env())  # a Celery app built later in this process agrees with ours
    from celery.signals import setup_logging

    from . import logsetup

    logsetup.setup(opts.verbose, opts.log_file)
    setup_logging.connect(_logging_is_ours, weak=False)  # a receiver: Celery adds no handler of its own
    from .app import app

    app.conf.update(opts.settings.celery())
    rt = Runtime(opts.settings, queues=opts.queues, concurrency=opts.concurrency, runs_dir=opts.runs_dir,
                 stop_timeout=opts.stop_timeout)
    if opts.name:  # Celery's node name form, NAME@HOST, so `celery inspect` and Flower show the same name
        rt.name = opts.name if "@" in opts.name else f"{opts.name}@{socket.gethostname()}"
    install(rt)
    rt.runs_dir.mkdir(parents=True, exist_ok=True)
    from . import tasks  # noqa: F401  (registers the device task and the worker signals)

    _preload()

    worker = app.Worker(hostname=rt.name, queues=opts.queues, concurrency=opts.concurrency, pool_cls="threads",
                        loglevel="DEBUG" if opts.verbose > 1 else "INFO", without_mingle=True, without_gossip=True,
                        send_events=opts.settings.events, quiet=True, optimization="fair")
    worker.start()
    from .heartbeat import ensure

    ensure(rt).stop()
    return int(worker.exitcode or 0)
