"""A distributed fleet from start to verdict, on the submitter: check the broker, journal the start, register the
fleet and send its jobs, collect the results (bringing each device run home), close it at --timeout or Ctrl-C,
judge it like a local fleet. Never resolves a secret: the workers do.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import RemoteError
from ..fleet.events import FleetEnded, FleetResumed, FleetStarted
from ..fleet.fleetdir import FleetDir, FleetSpec
from ..fleet.job import DeviceJob, JobResult
from ..fleet.progress import Board
from ..fleet.report import verdict
from ..fleet.session import FleetOutcome
from . import fleetstate
from .broker import Outage, client, connection_errors, shown
from .collect import Collector, Hooks
from .resume import resume_from
from .settings import Settings
from .submit import make_sender, payloads, register, send

CONNECT_FOR = 30.0


@dataclass
class RemoteOptions:
    settings: Settings
    timeout: float | None = None
    grace: float = 60.0


def reach(settings: Settings, outage: Outage, within: float = CONNECT_FOR) -> None:
    """The broker answers, or RemoteError after `within` seconds (a wrong URL fails fast, a blip is waited out)."""
    r = client(settings.broker)
    end = time.monotonic() + within
    while True:
        try:
            r.ping()
            outage.up()
            return
        except connection_errors() as exc:
            if time.monotonic() >= end:
                raise RemoteError(f"cannot reach the broker {shown(settings.broker)}: {exc}",
                                  hint="check --via, and that redis-server runs and accepts this host") from None
            outage.down(exc)
            time.sleep(0.5)


def run_remote(fleet: FleetDir, spec: FleetSpec, board: Board, opts: RemoteOptions, *,
               tick: Callable[[], None], result: Callable[[JobResult], None],
               notice: Callable[[str], None], resumed: bool = False) -> tuple[FleetOutcome, dict[str, Any]]:
    s = opts.settings
    outage = Outage(s.broker, say=notice)
    reach(s, outage, min(CONNECT_FOR, opts.timeout or CONNECT_FOR))
    journal = fleet.journal()
    app = make_sender(s)
    deadline = time.monotonic() + opts.timeout if opts.timeout else None

    def resend(jobs: list[DeviceJob]) -> None:
        if not fleetstate.exists(client(s.broker), spec.fleet_id):  # the broker lost the fleet itself
            register(s, spec, outage)
        send(app, payloads(fleet, spec, jobs), outage, deadline)

    collector = Collector(client(s.broker), fleet, list(spec.jobs), board, journal, outage,
                          Hooks(tick=tick, result=result, notice=notice, resend=resend), grace=opts.grace)
    why: str | None = None
    todo = list(spec.jobs)
    if resumed:
        todo = resume_from(collector, spec)
        journal.write(FleetResumed(fleet_id=spec.fleet_id, devices=len(spec.jobs), workers=0,
                                   playbook=spec.playbook, to_run=[j.device for j in todo]))
    else:
        journal.write(FleetStarted(fleet_id=spec.fleet_id, devices=len(spec.jobs), workers=0,
                                   playbook=spec.playbook))
    try:
        if todo:
            register(s, spec, outage, todo)
            send(app, payloads(fleet, spec, todo), outage, deadline, sent=lambda p: tick())
        why = collector.run(deadline)
    except KeyboardInterrupt:
        why = "interrupted"
    except connection_errors() as exc:  # the broker stayed away past the deadline while jobs were sent
        notice(f"broker {shown(s.broker)} unreachable: {exc}")
        why = "timeout"
    if why is not None:
        text = "the fleet was interrupted" if why == "interrupted" else f"--timeout {opts.timeout:g}s passed"
        notice(f"{text}: closing the fleet (running devices stop and clean up; queued ones never start)")
        collector.close(why, text)
    else:
        try:
            fleetstate.close(collector.r, spec.fleet_id, "ended")
        except connection_errors():
            pass
    ordered = [collector.results[j.device] for j in spec.jobs if j.device in collector.results]
    v = verdict(ordered, why == "interrupted")
    journal.write(FleetEnded(status=v.status, exit_code=v.exit_code, counts=v.counts(ordered)))
    journal.close()
    peak = len(set(collector.workers.values()))
    extra = {"fleet_id": spec.fleet_id, "via": shown(s.broker), "duplicates_discarded": collector.duplicates,
             "workers": sorted(set(collector.workers.values())),
             "import_ms_median": round(statistics.median(collector.import_ms), 1) if collector.import_ms else None}
    return FleetOutcome(fleet, ordered, v, peak), extra
