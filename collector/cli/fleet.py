"""Fleet commands: `collector run --inventory` (many devices, one fleet directory), `collector resume FLEET_DIR`,
`collector fleet status FLEET_DIR`, and the fleet side of `collector bundle FLEET_DIR`.

The live view goes to stderr (plain lines when it is not a terminal); the table or `--json` to stdout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import CollectorError, UsageError
from ..ui.console import err, fail, out, print_json, say
from . import logs
from . import options as o
from .flags import CredentialFlags
from .fleet_args import FleetArgs

if TYPE_CHECKING:
    from ..fleet.creds import Fallback
    from ..fleet.fleetdir import FleetDir, FleetSpec
    from ..fleet.plan import FleetPlan


def run_fleet(a: FleetArgs) -> int:
    from ..fleet.fleetdir import FleetDir, new_spec
    from ..fleet.inventory import load_inventory
    from ..fleet.job import JobOptions
    from ..fleet.plan import Library, PlanInputs, make_plan
    from ..fleet.select import select
    from ..platforms import AUTO
    from ..playbook.library import find_playbook, is_family
    from ..playbook.variables import parse_var_overrides
    from ..store.rundir import slugify
    from .load import load_checked_playbook

    if a.workers < 1:
        raise UsageError(f"--workers {a.workers}: give at least 1")
    overrides = parse_var_overrides(a.var)
    library = Library(a.playbook, overrides) if is_family(a.playbook) and a.platform in (None, AUTO) else None
    loaded = None if library else load_checked_playbook(find_playbook(a.playbook, a.platform), overrides)
    name = loaded.model.name if loaded else slugify(a.playbook, 60)
    inventory = load_inventory(a.inventory)
    chosen = select(inventory.devices, a.limits, a.filters)
    for warning in chosen.warnings:
        say(("warning: ", "yellow"), warning, stderr=True)
    options = JobOptions(case=a.case, allow_changes=a.allow_changes, chunk_size=a.chunk_size,
                         reconnect_attempts=a.reconnect_attempts, reconnect_for=a.reconnect_for,
                         login_timeout=a.login_timeout)
    inputs = PlanInputs(fleet_id=os.urandom(8).hex(), loaded=loaded, overrides=overrides, platform=a.platform,
                        connect=a.connect.record, jumps=_jumps(a.connect.jump), fallback=a.creds.record,
                        options=options, library=library)
    plan = make_plan(chosen.devices, inputs)
    _say_left_out(plan)
    if not plan.jobs:
        raise UsageError("none of the selected devices can run this playbook (see the warnings above)",
                         hint="--limit platform=NAME chooses devices; --platform NAME forces a platform")
    if a.dry_run:
        return print_plan(plan, a.as_json)
    if a.via is not None:
        from .remote import check_remote

        check_remote(a, plan.jobs)
    fallback = fallback_secrets(a.creds, interactive=not a.as_json) if a.via is None else None
    spec = new_spec(fleet_id=inputs.fleet_id, playbook=name, inventory=str(inventory.source),
                    inventory_kind=inventory.kind, limits=a.limits, filters=a.filters, workers=a.workers,
                    logins_per_host=a.logins_per_host, logins_per_aaa=a.logins_per_aaa,
                    left_out=[{"device": d.name, "why": why} for d, why in plan.left_out], jobs=plan.jobs,
                    via=_shown(a.via))
    fleet = FleetDir.create(a.runs_dir, name, spec)
    bundle_dir = (a.bundle_dir or a.runs_dir.parent / "bundles") if a.bundle else None
    if fallback is None:
        from .remote import execute_remote

        assert a.via is not None
        return execute_remote(fleet, spec, a.via, a.timeout, a.as_json, bundle_dir)
    return execute(fleet, spec, fallback, a.as_json, bundle_dir=bundle_dir)


def _shown(url: str | None) -> str | None:
    if url is None:
        return None
    from ..workers.broker import shown

    return shown(url)


def _jumps(spec: str | None) -> list[str]:
    from ..target import parse_jumps

    return [h.display() for h in parse_jumps(spec)]


def _say_left_out(plan: FleetPlan) -> None:
    for device, why in plan.left_out[:10]:
        say(("left out: ", "yellow"), device.name, f" ({device.source}): {why}", stderr=True)
    if len(plan.left_out) > 10:
        say(("left out: ", "yellow"), f"{len(plan.left_out) - 10} more devices (see --dry-run --json)", stderr=True)


def fallback_secrets(creds: CredentialFlags, interactive: bool) -> Fallback:
    """The run's own credential flags, resolved now (a prompt is asked once, for every device that needs it)."""
    from ..fleet.creds import Fallback
    from ..secrets import secret_from_env

    built = creds.build(None, interactive)
    logs.mask(built.masker)
    jumps = {}
    for spec in creds.record.jump_passwords:
        host, _, var = spec.rpartition("=")
        jumps[host] = secret_from_env(var, "jump host password")
        built.masker.add(jumps[host])
    return Fallback(password=built.password, enable=built.enable, key_passphrase=built.key_passphrase,
                    otp_provider=built.otp_provider, jump_passwords=jumps)


def execute(fleet: FleetDir, spec: FleetSpec, fallback: Fallback, as_json: bool, *, resumed: bool = False,
            bundle_dir: Path | None = None) -> int:
    from ..fleet.device_run import JobContext
    from ..fleet.limits import Limits
    from ..fleet.progress import Board
    from ..fleet.session import Hooks, run_fleet
    from ..fleet.view import FleetView
    from ..runner.plan import plan_steps
    from ..runner.signals import signals_as_interrupt

    ctx = JobContext(fleet, Limits(spec.logins_per_host, spec.logins_per_aaa), fallback=fallback,
                     known_masks=[logs.mask])
    cleanup = {s.index for job in {j.playbook.path: j for j in spec.jobs if j.playbook.sha256}.values()
               for s in plan_steps(ctx.playbooks.load(job).model) if s.kind == "cleanup"}
    board = Board.of([j.device for j in spec.jobs])
    view = None if as_json else FleetView(board, err(), str(fleet.path))
    hooks = Hooks()
    if view is not None:
        view.start()
        hooks = Hooks(tick=view.tick, result=view.result, stopping=lambda: view.notice(
            "stopping: no new device starts; running devices stop at their next byte and clean up "
            "(Ctrl-C again to leave at once; `collector resume` continues)"))
    try:
        with signals_as_interrupt():
            outcome = run_fleet(fleet, spec, ctx, board, resumed=resumed, cleanup_steps=cleanup, hooks=hooks)
    finally:
        if view is not None:
            view.close()
    from .fleet_report import conclude

    return conclude(outcome, as_json, bundle_dir, ctx.secrets.all() + [s for s in (fallback.password,
                                                                                  fallback.enable) if s])


def print_plan(plan: FleetPlan, as_json: bool) -> int:
    """--dry-run: which device, which platform, which path; nothing is contacted, no secret is resolved."""
    from rich.table import Table

    from ..ui.console import safe

    rows: list[dict[str, Any]] = []
    for job in plan.jobs:
        path = " -> ".join([*job.jumps, job.target]) if job.jumps else job.target
        rows.append({"device": job.device, "platform": job.platform, "target": job.target, "jumps": job.jumps,
                     "jump_mode": job.connect.jump_mode, "line": job.line, "aaa": job.aaa, "queue": job.queue,
                     "path": path, "groups": job.groups, "vars": job.vars, "source": job.source,
                     "credentials": {k: (f"${v.env}" if v.env else "command " + " ".join(v.command or []))
                                     for k, v in job.credentials.items()},
                     "guard": plan.refused.get(job.device, "ok")})
    left = [{"device": d.name, "source": d.source, "why": why} for d, why in plan.left_out]
    if as_json:
        print_json({"dry_run": True, "devices": rows, "left_out": left})
        return 0
    t = Table(title=f"dry run: {len(rows)} devices (nothing was contacted)")
    for col in ("device", "platform", "path", "aaa", "credentials", "guard"):
        t.add_column(col, overflow="fold")
    for r in rows:
        creds = ", ".join(f"{k}={v}" for k, v in r["credentials"].items()) or "the run's flags"
        line = f" (line {r['line']})" if r["line"] else ""
        t.add_row(safe(r["device"]), safe(r["platform"]), safe(r["path"] + line), safe(r["aaa"] or "-"),
                  safe(creds), safe(r["guard"], "green" if r["guard"] == "ok" else "red"))
    out().print(t)
    return 0


def resume_fleet(path: Path, given: CredentialFlags, as_json: bool, workers: int | None = None,
                 allow_changes: bool = False) -> int:
    """Continue a fleet: only unfinished devices; changes only when --allow-changes is given again (a flag in an
    edited fleet.json is not trusted)."""
    from ..fleet.fleetdir import FleetDir

    fleet = FleetDir.open(path)
    spec = fleet.read_spec()
    if not spec.jobs:
        raise UsageError(f"{path}: the fleet has no device")
    merged = given.over(spec.jobs[0].fallback)
    jobs = [j.model_copy(update={"fallback": merged.record,
                                 "options": j.options.model_copy(update={"allow_changes": allow_changes})})
            for j in spec.jobs]
    spec = spec.model_copy(update={"workers": workers or spec.workers, "jobs": jobs})
    if spec.via is not None:
        from .remote import resume_remote

        return resume_remote(fleet, spec, as_json)
    return execute(fleet, spec, fallback_secrets(merged, interactive=not as_json), as_json, resumed=True)


def status(
    fleet: Annotated[str, typer.Argument(metavar="FLEET_DIR|FLEET_ID",
                                         help="fleet directory, or the id of a fleet run with --via")],
    broker: Annotated[str | None, typer.Option("--broker", "-b", metavar="URL",
                                               help="a --via fleet's Redis (default: $COLLECTOR_BROKER)")] = None,
    as_json: o.Json = False, verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Per device of a fleet: finished (how), running (on which worker) or queued/not started, and why."""
    from . import logs

    logs.setup(verbose, log_file)

    try:
        doc, remote = _status_doc(fleet, broker)
    except CollectorError as exc:
        fail(exc)
    if as_json:
        print_json(doc)
        return
    if remote:
        from ..workers.status import remote_table

        out().print(remote_table(doc))
        return
    from ..fleet.status import status_table

    out().print(status_table(doc))


def _status_doc(fleet: str, broker: str | None) -> tuple[dict[str, Any], bool]:
    """The local fleet directory's status; a --via fleet still running (or given by id): the broker's view."""
    from ..fleet.fleetdir import FleetDir
    from ..fleet.status import fleet_status

    path = Path(fleet)
    url = broker or os.environ.get("COLLECTOR_BROKER")
    if FleetDir.is_fleet(path):
        doc = fleet_status(path)
        spec = FleetDir.open(path).read_spec()
        if not spec.via or doc["ended"] is not None:
            return doc, False
        url = url or (spec.via if "***" not in spec.via else None)
        if url is None:
            return doc, False
        fleet = spec.fleet_id
    elif path.exists() or "/" in fleet:
        raise UsageError(f"{fleet} is not a fleet directory (no fleet.json)",
                         hint="pass the directory `collector run --inventory` printed, or a --via fleet's id")
    if not url:
        raise UsageError(f"{fleet!r} is a fleet id: say which broker holds it",
                         hint="--broker redis://HOST:6379/0 (or set COLLECTOR_BROKER)")
    from ..workers.broker import check_url
    from ..workers.status import remote_status

    return remote_status(check_url(url), fleet), True
