"""`collector schedule add|list|remove|run-now|history` (the typer `app`) and `collector scheduler` (the daemon).

Jobs hold credential references only: there is no --password flag; --password-env/--enable-env take variable NAMES.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ..cli import logs
from ..cli.options import LogFile, Verbose
from ..errors import CollectorError, UsageError
from ..ui import console as ui

if TYPE_CHECKING:  # loaded when a command runs, so other commands start fast
    from rich.table import Table

    from .jobs import Job

app = typer.Typer(
    name="schedule",
    help="Scheduled runs: add, list, remove, run-now, history (the `collector scheduler` daemon runs them).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
StoreOpt = Annotated[Path | None, typer.Option("--store", help="schedule store (default $COLLECTOR_HOME/schedule.db, "
                                               "COLLECTOR_HOME default ~/.local/share/collector)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


def _fail(exc: CollectorError) -> NoReturn:
    ui.fail(exc)


def _store(path: Path | None) -> Any:
    from .jobs import default_store_path
    from .store import ScheduleStore

    return ScheduleStore(path or default_store_path())


def _when(ts: float | None) -> str:
    from .jobs import local_tz

    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).astimezone(local_tz()).strftime("%Y-%m-%d %H:%M:%S%z")


def _next_run(job: Job, nxt: dict[str, float | None], registered: set[str]) -> tuple[str, float | None]:
    if job.id in nxt:
        ts = nxt[job.id]
        return (_when(ts), ts) if ts is not None else ("paused", None)
    if job.id in registered:
        return "done", None
    return f"{_when(job.first_run)} (pending)", job.first_run


# -- add -----------------------------------------------------------------------------------------
@app.command()
def add(
    playbook: Annotated[Path, typer.Argument(help="playbook YAML (validated now)")],
    target: Annotated[str | None, typer.Option("--target", "-t", help="ssh://user@host[:port], telnet://, "
                                               "serial://, ...")] = None,
    inventory: Annotated[Path | None, typer.Option("--inventory", "-i", help="a fleet: nornir hosts.yaml, Ansible "
                                                   "YAML/INI or CSV (checked now)")] = None,
    limit: Annotated[list[str] | None, typer.Option("--limit", "-l", help="with --inventory: devices by name, "
                                                    "group, key=value")] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="with --inventory: key=glob,...")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="with --inventory: devices at once")] = None,
    at: Annotated[str | None, typer.Option("--at", help="once, at this local time: 2026-12-01T02:00")] = None,
    cron: Annotated[str | None, typer.Option("--cron", help="crontab fields (local time): '0 2 * * *'")] = None,
    every: Annotated[str | None, typer.Option("--every", help="repeat at this interval: 6h, 30m")] = None,
    for_: Annotated[str | None, typer.Option("--for", help="cap each run: SIGTERM after this long (the run "
                                             "switches debug off and ends interrupted), e.g. 2h")] = None,
    grace: Annotated[str | None, typer.Option("--grace", help="run a missed fire late if the scheduler starts "
                                              "within this window, else record it missed (default 10m)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="a label (default PLAYBOOK@HOST)")] = None,
    password_env: Annotated[str | None, typer.Option("--password-env", help="NAME of the env variable holding the "
                                                     "password (the scheduler's environment)")] = None,
    password_command: Annotated[str | None, typer.Option("--password-command", help="command printing the "
                                                         "password (e.g. a password manager)")] = None,
    enable_env: Annotated[str | None, typer.Option("--enable-env", help="NAME of the env variable holding the "
                                                   "enable secret")] = None,
    enable_command: Annotated[str | None, typer.Option("--enable-command", help="command printing the enable "
                                                       "secret")] = None,
    key: Annotated[str | None, typer.Option("--key", help="SSH private key file")] = None,
    known_hosts: Annotated[str | None, typer.Option("--known-hosts", help="collector's own known_hosts file")] = None,
    accept_new_host_key: Annotated[bool, typer.Option("--accept-new-host-key", help="trust an unknown host key "
                                                      "on first use")] = False,
    no_ssh_config: Annotated[bool, typer.Option("--no-ssh-config", help="ignore ~/.ssh/config")] = False,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="where run directories go (default "
                                                  "$COLLECTOR_HOME/runs)")] = None,
    bundle: Annotated[bool, typer.Option("--bundle/--no-bundle", help="bundle each run when it ends")] = False,
    case: Annotated[str | None, typer.Option("--case", help="support case number")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="override the playbook's platform")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="playbook variable: name=value")] = None,
    launcher: Annotated[str | None, typer.Option("--launcher", hidden=True, help="run this command instead of "
                                                 "`python -m collector` (wrappers, tests)")] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False, verbose: Verbose = 0, log_file: LogFile = None,
) -> None:
    """Schedule PLAYBOOK against a target or an --inventory: --at TIME | --cron 'M H D M W' | --every 6h."""
    from .jobs import make_job

    try:
        logs.setup(verbose, log_file)
        overrides_check(playbook, platform, var)
        job = make_job(
            playbook, target or "", at=at, cron=cron, every=every, for_=for_, grace=grace, name=name,
            inventory=inventory, limits=limit, filters=filter_, workers=workers,
            password_env=password_env, password_command=password_command, enable_env=enable_env,
            enable_command=enable_command, key=key, known_hosts=known_hosts,
            accept_new_host_key=accept_new_host_key, no_ssh_config=no_ssh_config, runs_dir=runs_dir,
            bundle=bundle, case=case, platform=platform, vars=var, launcher=_launcher(launcher),
        )
        _store(store).add_job(job)
    except CollectorError as exc:
        _fail(exc)
    st = _store(store)
    text, ts = _next_run(job, st.next_run_times(), st.registered_ids())
    if as_json:
        print(json.dumps({"id": job.id, "name": job.name, "trigger": job.describe_trigger(), "next_run": ts,
                          "store": str(st.path)}))
    else:
        ui.say("job ", (job.id, "bold"), f" ({job.name}) added: {job.describe_trigger()}; next run {text}")
    for ref in job.env_refs():
        if ref not in os.environ:
            ui.say(("note: ", "yellow"), f"{ref} is not set here; the scheduler must have it in its environment "
                   "(systemd: Environment=/EnvironmentFile=)", stderr=True)


def overrides_check(playbook: Path, platform: str | None, var: list[str] | None) -> None:
    """The playbook validates and passes the read-only guard now, not at 2 a.m."""
    from ..platforms import load_platform
    from ..playbook import check_playbook, load_playbook
    from ..playbook.variables import parse_var_overrides

    loaded = load_playbook(playbook, parse_var_overrides(var or []))
    check_playbook(loaded, load_platform(platform or loaded.model.platform), False)


def _launcher(text: str | None) -> list[str] | None:
    try:
        return shlex.split(text) if text else None
    except ValueError as exc:
        raise UsageError(f"--launcher: {exc}") from exc


# -- list / remove / history -----------------------------------------------------------------------
@app.command("list")
def list_jobs(store: StoreOpt = None, as_json: JsonOpt = False, verbose: Verbose = 0,
              log_file: LogFile = None) -> None:
    """Scheduled jobs: id, name, trigger, next run, last result."""
    try:
        logs.setup(verbose, log_file)
        st = _store(store)
        jobs = st.list_jobs()
        nxt, registered = st.next_run_times(), st.registered_ids()
        lasts = {j.id: st.last_execution(j.id) for j in jobs}
    except CollectorError as exc:
        _fail(exc)
    if as_json:
        rows = []
        for j in jobs:
            last = lasts[j.id]
            rows.append({"id": j.id, "name": j.name, "trigger": j.describe_trigger(), "target": j.target or None,
                         "inventory": j.inventory,
                         "playbook": j.playbook, "next_run": _next_run(j, nxt, registered)[1],
                         "next_run_text": _next_run(j, nxt, registered)[0],
                         "last": last.to_json() if last else None})
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title=ui.safe(f"scheduled jobs ({st.path})"))
    for col in ("id", "name", "trigger", "next run", "last result"):
        table.add_column(col)
    for j in jobs:
        last = lasts[j.id]
        last_text = "-" if last is None else f"{last.status}" + (
            f" (exit {last.exit_code})" if last.exit_code is not None else "") + \
            f" {_when(last.ended or last.started or last.scheduled_for)}"
        table.add_row(j.id, ui.safe(j.name), ui.safe(j.describe_trigger()), _next_run(j, nxt, registered)[0],
                      ui.safe(last_text))
    _print_table(table)


@app.command()
def remove(job_ref: Annotated[str, typer.Argument(help="job id (or unique name)")], store: StoreOpt = None,
           verbose: Verbose = 0, log_file: LogFile = None) -> None:
    """Remove a job (a run in progress is not stopped; its history is kept)."""
    try:
        logs.setup(verbose, log_file)
        st = _store(store)
        job = st.get_job(job_ref)
        st.remove_job(job.id)
    except CollectorError as exc:
        _fail(exc)
    ui.say(f"removed job {job.id} ({job.name})")


@app.command()
def history(
    job_ref: Annotated[str | None, typer.Argument(help="job id (or unique name); all jobs if omitted")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="rows to show")] = 20,
    store: StoreOpt = None,
    as_json: JsonOpt = False, verbose: Verbose = 0, log_file: LogFile = None,
) -> None:
    """Executions (run, exit code, run directory), missed and skipped fires; newest first."""
    try:
        logs.setup(verbose, log_file)
        st = _store(store)
        job_id = st.get_job(job_ref).id if job_ref else None
        rows = st.executions(job_id, limit)
    except CollectorError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return
    from rich.table import Table

    from ..units import format_duration
    from .jobs import local_tz

    table = Table(title=f"schedule history (times {datetime.now(local_tz()).strftime('%Z')})")
    for col in ("#", "job", "kind", "status", "scheduled", "started", "took", "exit"):
        table.add_column(col, no_wrap=True)
    table.add_column("run directory / note", overflow="fold", min_width=30)
    for r in rows:
        took = format_duration(round(r.ended - r.started)) if r.ended is not None and r.started is not None else "-"
        table.add_row(str(r.id), r.job_id, r.kind, r.status, _short(r.scheduled_for), _short(r.started), took,
                      "-" if r.exit_code is None else str(r.exit_code), ui.safe(r.run_dir or r.message or ""))
    _print_table(table)


def _print_table(table: Table) -> None:
    """Tables at the terminal's width; piped or captured output gets 160 columns (paths stay whole)."""
    from rich.console import Console

    out = ui.out()
    console = out if out.is_terminal else Console(highlight=False, width=max(out.width, 160))
    console.print(table)


def _short(ts: float | None) -> str:
    from .jobs import local_tz

    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).astimezone(local_tz()).strftime("%m-%d %H:%M:%S")


# -- run-now ---------------------------------------------------------------------------------------
@app.command("run-now")
def run_now(
    job_ref: Annotated[str, typer.Argument(help="job id (or unique name)")],
    stop_timeout: Annotated[str, typer.Option("--stop-timeout", help="after Ctrl-C/SIGTERM, wait this long for "
                                              "the run's cleanup before killing it")] = "60s",
    store: StoreOpt = None,
    as_json: JsonOpt = False, verbose: Verbose = 0, log_file: LogFile = None,
) -> None:
    """Run a job now, in the foreground (same subprocess as the scheduler uses); exits with the run's code."""
    from ..units import parse_duration
    from .executor import execute

    try:
        logs.setup(verbose, log_file)
        st = _store(store)
        job = st.get_job(job_ref)
        busy = st.running(job.id)
        if busy:
            raise UsageError(f"job {job.id} is running now (execution #{busy[0].id}, pid {busy[0].pid})",
                             hint="wait for it to end (see `collector schedule history`)")
        timeout = parse_duration(stop_timeout)
    except ValueError as exc:
        _fail(UsageError(f"--stop-timeout: {exc}"))
    except CollectorError as exc:
        _fail(exc)
    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not as_json:
            ui.say(f"running job {job.id} ({job.name}): {shlex.join(job.argv())}", stderr=True)
        result = execute(job, st, kind="run-now", stop=stop, stop_timeout=timeout)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if as_json:
        print(json.dumps(result.to_json()))
    else:
        ui.say(f"{job.id} ({job.name}): {result.status} (exit {result.exit_code})")
        if result.run_dir:
            ui.say("run directory: ", result.run_dir)
        if result.message:
            ui.say((result.message, "dim"), stderr=True)
    code = result.exit_code
    raise typer.Exit(code if code is not None and code >= 0 else 1)


# -- the daemon ------------------------------------------------------------------------------------
def scheduler(
    store: StoreOpt = None,
    poll: Annotated[str, typer.Option("--poll", help="how often to pick up jobs added/removed by "
                                      "`collector schedule`")] = "5s",
    stop_timeout: Annotated[str, typer.Option("--stop-timeout", help="on SIGTERM, how long running runs get for "
                                              "their cleanup before they are killed")] = "60s",
    max_workers: Annotated[int, typer.Option("--max-workers", help="runs at the same time (different jobs)")] = 10,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="also log APScheduler's own messages")] = False,
) -> None:
    """Run scheduled jobs in the foreground until SIGTERM/SIGINT (systemd-friendly: logs to stderr, Type=notify)."""
    from ..units import parse_duration
    from .daemon import SchedulerDaemon

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        force=True)
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        daemon = SchedulerDaemon(_store(store), poll=parse_duration(poll), stop_timeout=parse_duration(stop_timeout),
                                 max_workers=max_workers)
        code = daemon.serve()
    except ValueError as exc:
        _fail(UsageError(str(exc)))
    except CollectorError as exc:
        _fail(exc)
    raise typer.Exit(code)


def mount(root: typer.Typer) -> None:
    """Add `schedule ...` and `scheduler` to a CLI (collector/cli.py: `mount_schedule(app)`)."""
    root.add_typer(app, name="schedule", help="Scheduled runs: add, list, remove, run-now, history "
                   "(run by `collector scheduler`).")
    root.command("scheduler")(scheduler)


def standalone() -> typer.Typer:
    """`python -m collector.schedule schedule ...|scheduler`: the same commands before/without the main CLI."""
    root = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    mount(root)
    return root
