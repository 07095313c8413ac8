"""`collector run … --inventory … --via redis://…`: the fleet's devices run on `collector worker`s; this process
plans, submits, shows progress, brings every device run home (verified) and judges the fleet like a local one.

It never resolves a credential: the jobs carry references, which each worker resolves on its own machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..ui.console import err, say

if TYPE_CHECKING:
    from ..fleet.fleetdir import FleetDir, FleetSpec
    from ..fleet.job import DeviceJob
    from .fleet_args import FleetArgs


def check_remote(a: FleetArgs, jobs: list[DeviceJob]) -> None:
    """What cannot work on a worker is refused before anything is sent."""
    from ..workers.broker import check_url
    from ..workers.submit import check_queues

    check_url(a.via or "")
    r = a.creds.record
    asked = [label for label, src in (("password", r.password), ("enable", r.enable),
                                      ("key passphrase", r.key_passphrase)) if src.ask]
    if asked:
        raise UsageError(f"--ask-{asked[0].replace(' ', '-')} cannot be used with --via: a worker has no terminal "
                         "to ask on", hint="give a reference the workers resolve, e.g. --password-env VAR set on "
                                           "every worker (or password_env in the inventory)")
    check_queues(jobs)


def resume_remote(fleet: FleetDir, spec: FleetSpec, as_json: bool) -> int:
    """Continue a --via fleet through its broker: $COLLECTOR_BROKER, else the URL fleet.json recorded."""
    import os

    from ..workers.broker import check_url

    url = os.environ.get("COLLECTOR_BROKER") or (spec.via if spec.via and "***" not in spec.via else None)
    if not url:
        raise UsageError("this fleet ran through a broker whose URL holds a password, which is never recorded",
                         hint="set COLLECTOR_BROKER=redis://:PASSWORD@HOST:6379/0 and resume again")
    return execute_remote(fleet, spec, check_url(url), None, as_json, None, resumed=True)


def execute_remote(fleet: FleetDir, spec: FleetSpec, via: str, timeout: float | None, as_json: bool,
                   bundle_dir: Path | None, resumed: bool = False) -> int:
    from ..fleet.progress import Board
    from ..fleet.view import FleetView
    from ..runner.signals import signals_as_interrupt
    from ..workers.remote import RemoteOptions, run_remote
    from ..workers.settings import Settings
    from ..workers.submit import queue_of
    from .fleet_report import conclude

    board = Board.of([j.device for j in spec.jobs])
    view = None if as_json else FleetView(board, err(), str(fleet.path))
    queues: dict[str, int] = {}
    for job in spec.jobs:
        queues[queue_of(job)] = queues.get(queue_of(job), 0) + 1
    shown = spec.via or ""
    say(f"fleet {spec.fleet_id} via {shown}: {len(spec.jobs)} device(s) on queue(s) "
        + ", ".join(f"{q} ({n})" for q, n in sorted(queues.items())), stderr=True)

    def notice(text: str) -> None:
        if view is not None:
            view.notice(text)
        else:
            say(("notice: ", "yellow"), text, stderr=True)

    if view is not None:
        view.start()
    try:
        with signals_as_interrupt():
            outcome, extra = run_remote(fleet, spec, board, RemoteOptions(Settings(broker=via), timeout),
                                        tick=view.tick if view else lambda: None,
                                        result=view.result if view else lambda r: None, notice=notice,
                                        resumed=resumed)
    finally:
        if view is not None:
            view.close()
    return conclude(outcome, as_json, bundle_dir, [], extra)
