"""`collector worker`: serve device jobs from Redis queues (Celery), each device run exactly as a fleet runs it.

Logs go to stderr (systemd/journald friendly); SIGTERM stops gracefully. Credentials are resolved here, from the
references the jobs carry (set the variables, or make the commands work, on the worker's machine).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from ..errors import CollectorError, UsageError
from ..ui.console import fail
from . import options as o


def queues_of(values: list[str]) -> list[str]:
    from ..workers.settings import QUEUE_NAME

    out: list[str] = []
    for value in values:
        for q in (part.strip() for part in value.split(",")):
            if not q:
                continue
            if not QUEUE_NAME.fullmatch(q):
                raise UsageError(f"queue name {q!r}: use letters, digits and . _ : - (at most 100)")
            if q not in out:
                out.append(q)
    return out


def _seconds(flag: str, text: str) -> float:
    from ..units import parse_duration

    try:
        value = float(parse_duration(text))
    except ValueError as exc:
        raise UsageError(f"{flag} {text!r}: {exc}", hint="write it as 30s, 10m, 1h") from None
    if value <= 0:
        raise UsageError(f"{flag} {text!r}: give a positive duration")
    return value


def worker(
    broker: Annotated[str | None, typer.Option("--broker", "-b", metavar="URL",
                                               help="Redis URL (default: $COLLECTOR_BROKER)")] = None,
    queues: Annotated[list[str] | None, typer.Option("--queues", "-Q", metavar="Q[,Q]",
                                                     help="queues to serve (inventory `queue:`)")] = None,
    runs_dir: o.RunsDir = Path("runs"),
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", metavar="N",
                                             help="device sessions at once")] = 4,
    name: Annotated[str | None, typer.Option("--name", "-n", metavar="NAME",
                                             help="worker name, NAME[@HOST] (default collector-PID@HOST)")] = None,
    stop_timeout: Annotated[str, typer.Option("--stop-timeout", metavar="TIME",
                                              help="on SIGTERM: finish devices this long, then hand back")] = "60s",
    visibility_timeout: Annotated[str, typer.Option("--visibility-timeout", metavar="TIME",
                                                    help="redeliver a lost worker's devices after")] = "15m",
    heartbeat: Annotated[str, typer.Option("--heartbeat", metavar="TIME", help="heartbeat period")] = "5s",
    events: Annotated[bool, typer.Option("--events", "-E", help="send Celery task events (Flower)")] = False,
    verbose: o.Verbose = 0,
    log_file: o.LogFile = None,
) -> None:
    """Serve device jobs of `collector run --via` from Redis queues (Celery worker, threads pool)."""
    try:
        from ..workers.broker import check_url
        from ..workers.settings import DEFAULT_QUEUE, ENV_BROKER, Settings
        from ..workers.worker_main import WorkerOptions, start

        if concurrency < 1:
            raise UsageError(f"--concurrency {concurrency}: give at least 1")
        url = check_url(broker or os.environ.get(ENV_BROKER) or "")
        if name is not None and not re.fullmatch(r"[A-Za-z0-9._@-]{1,100}", name):
            raise UsageError(f"--name {name!r}: use letters, digits and . _ @ -")
        settings = Settings(broker=url, visibility_timeout=_seconds("--visibility-timeout", visibility_timeout),
                            heartbeat=_seconds("--heartbeat", heartbeat), events=events)
        if settings.visibility_timeout < 3 * settings.heartbeat:
            raise UsageError("--visibility-timeout must be at least 3 heartbeats (a live worker renews it)")
        stop = None if stop_timeout in ("never", "none") else _seconds("--stop-timeout", stop_timeout)
        code = start(WorkerOptions(settings, queues_of(queues or [DEFAULT_QUEUE]), runs_dir, concurrency, name, stop,
                                   verbose, log_file))
    except CollectorError as exc:
        fail(exc)
    raise typer.Exit(code)
