"""The scheduled-job model: what to run (playbook, target, run flags), when (at / cron / every) and for how long.

A job holds credential REFERENCES only (env variable names, commands); `job.argv()` is the `collector run` command.
"""

from __future__ import annotations

import re
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import UsageError
from ..units import format_duration, parse_duration
from .secret_check import literal_secret_problem

TriggerKind = Literal["at", "cron", "every"]
DEFAULT_GRACE = 600
MIN_EVERY = 1.0
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Job(BaseModel):
    """One scheduled `collector run`. Serialised as JSON in the store; never holds a secret value."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    playbook: str
    target: str = ""  # one device, or
    inventory: str | None = None  # many: a fleet run (collector run --inventory)
    limits: list[str] = Field(default_factory=list)
    filters: list[str] = Field(default_factory=list)
    workers: int | None = None
    trigger: TriggerKind
    spec: str
    first_run: float | None = None
    for_seconds: float | None = None
    grace_seconds: int = DEFAULT_GRACE
    password_env: str | None = None
    password_command: str | None = None
    enable_env: str | None = None
    enable_command: str | None = None
    key: str | None = None
    known_hosts: str | None = None
    accept_new_host_key: bool = False
    no_ssh_config: bool = False
    runs_dir: str
    bundle: bool = False
    case: str | None = None
    platform: str | None = None
    vars: list[str] = Field(default_factory=list)
    launcher: list[str] | None = None
    workdir: str
    created: float

    def argv(self) -> list[str]:
        """The full command line of one execution: `python -m collector run PLAYBOOK --target ... --json`."""
        prefix = list(self.launcher) if self.launcher else [sys.executable, "-m", "collector"]
        where = ["--inventory", self.inventory] if self.inventory else ["--target", self.target]
        args = ["run", self.playbook, *where, "--runs-dir", self.runs_dir, "--json"]
        for flag, items in (("--limit", self.limits), ("--filter", self.filters)):
            for item in items:
                args += [flag, item]
        if self.workers:
            args += ["--workers", str(self.workers)]
        for flag, value in (("--password-env", self.password_env), ("--password-command", self.password_command),
                            ("--enable-env", self.enable_env), ("--enable-command", self.enable_command),
                            ("--key", self.key), ("--known-hosts", self.known_hosts), ("--case", self.case),
                            ("--platform", self.platform)):
            if value:
                args += [flag, value]
        for item in self.vars:
            args += ["--var", item]
        if self.accept_new_host_key:
            args.append("--accept-new-host-key")
        if self.no_ssh_config:
            args.append("--no-ssh-config")
        if self.bundle:
            args.append("--bundle")
        return prefix + args

    def describe_trigger(self) -> str:
        text = {"at": f"at {self.spec}", "cron": f"cron '{self.spec}'", "every": f"every {self.spec}"}[self.trigger]
        if self.for_seconds:
            text += f" for {format_duration(self.for_seconds)}"
        return text

    def make_trigger(self) -> Any:
        """The APScheduler 3.x trigger for this job (local time zone for naive times and cron fields)."""
        return build_trigger(self.trigger, self.spec, self.first_run)

    def env_refs(self) -> list[str]:
        return [v for v in (self.password_env, self.enable_env) if v]


def local_tz() -> Any:
    from tzlocal import get_localzone

    return get_localzone()


def parse_at(text: str) -> datetime:
    """An ISO date-time ('2026-12-01T02:00', '2026-12-01 02:00+01:00'); naive means the local time zone."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"--at {text!r} is not a date-time", hint="write it as 2026-12-01T02:00 (local time) "
                         "or with an offset, 2026-12-01T02:00+00:00") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=local_tz())
    return when


def build_trigger(kind: str, spec: str, first_run: float | None = None) -> Any:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if kind == "at":
        return DateTrigger(run_date=parse_at(spec))
    if kind == "cron":
        try:
            return CronTrigger.from_crontab(spec, timezone=local_tz())
        except ValueError as exc:
            raise UsageError(f"--cron {spec!r}: {exc}", hint="five fields: minute hour day month weekday, "
                             "e.g. '0 2 * * *' for 02:00 every day") from exc
    if kind == "every":
        seconds = _duration("--every", spec)
        if seconds < MIN_EVERY:
            raise UsageError(f"--every {spec!r} is shorter than {MIN_EVERY:g} s")
        start = datetime.fromtimestamp(first_run, UTC) if first_run is not None else None
        return IntervalTrigger(seconds=seconds, start_date=start, timezone=local_tz())
    raise UsageError(f"unknown trigger kind {kind!r}", hint="use --at, --cron or --every")


def _duration(flag: str, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from exc


def check_env_name(flag: str, name: str | None) -> None:
    if name is not None and not _ENV_NAME.match(name):
        raise UsageError(f"{flag} {name!r} is not an environment variable name",
                         hint=f"{flag} takes the NAME of a variable (e.g. ROUTER_PW), never the secret itself")


def check_command(flag: str, command: str | None) -> None:
    """Refuse a command that prints a literal (`echo s3cret`, `true; echo S`, `sh -c 'echo S'` ...): the secret
    would sit in the job store. The detectable forms are listed in collector/schedule/secret_check.py."""
    if command is None:
        return
    problem = literal_secret_problem(command) if command.strip() else "the command is empty"
    if problem:
        raise UsageError(f"{flag} must fetch the secret (e.g. `pass show router1`), not contain it: {problem}",
                         hint="the command is stored as written in the schedule store; use a password manager "
                         "command or an environment variable (--password-env)")


def first_run_time(kind: str, spec: str, now: datetime) -> float:
    """When a new job first fires: the --at time, the next cron match, or now + the interval."""
    if kind == "at":
        return parse_at(spec).timestamp()
    if kind == "every":
        return (now + timedelta(seconds=_duration("--every", spec))).timestamp()
    trigger = build_trigger(kind, spec)
    nxt = trigger.get_next_fire_time(None, now.astimezone(local_tz()))
    if nxt is None:
        raise UsageError(f"--cron {spec!r} never fires")
    return float(nxt.timestamp())


def new_job_id() -> str:
    return uuid.uuid4().hex[:8]


def make_job(
    playbook: Path,
    target: str,
    *,
    at: str | None = None,
    cron: str | None = None,
    every: str | None = None,
    for_: str | None = None,
    grace: str | None = None,
    name: str | None = None,
    password_env: str | None = None,
    password_command: str | None = None,
    enable_env: str | None = None,
    enable_command: str | None = None,
    key: str | None = None,
    known_hosts: str | None = None,
    accept_new_host_key: bool = False,
    no_ssh_config: bool = False,
    runs_dir: Path | None = None,
    bundle: bool = False,
    case: str | None = None,
    platform: str | None = None,
    vars: list[str] | None = None,
    launcher: list[str] | None = None,
    now: datetime | None = None,
    allow_past: bool = False,
    inventory: Path | None = None,
    limits: list[str] | None = None,
    filters: list[str] | None = None,
    workers: int | None = None,
) -> Job:
    """Build and check a job (trigger, durations, credential references, target URL or inventory); the playbook
    is checked by the caller. An inventory is loaded now (its errors and secret values are refused at once)."""
    from ..target import parse_target

    if bool(target) == (inventory is not None):
        raise UsageError("give --target URL (one device) or --inventory PATH (a fleet), not both or neither")
    chosen = [(k, v) for k, v in (("at", at), ("cron", cron), ("every", every)) if v]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --at, --cron, --every",
                         hint="e.g. --at 2026-12-01T02:00, --cron '0 2 * * *' or --every 6h")
    kind, spec = chosen[0]
    assert spec is not None
    host = _inventory_check(inventory, limits, filters) if inventory is not None else _host(parse_target(target))
    if password_env and password_command:
        raise UsageError("give --password-env or --password-command, not both")
    if enable_env and enable_command:
        raise UsageError("give --enable-env or --enable-command, not both")
    check_env_name("--password-env", password_env)
    check_env_name("--enable-env", enable_env)
    check_command("--password-command", password_command)
    check_command("--enable-command", enable_command)
    now = now or datetime.now(UTC)
    build_trigger(kind, spec)  # validates the spec
    first = first_run_time(kind, spec, now)
    if kind == "at" and first < now.timestamp() and not allow_past:
        raise UsageError(f"--at {spec} is in the past", hint="give a future time (local time unless an offset is "
                         "given)")
    for_seconds = _duration("--for", for_) if for_ else None
    if for_seconds is not None and for_seconds <= 0:
        raise UsageError("--for must be longer than 0 s")
    grace_seconds = DEFAULT_GRACE if grace is None else max(1, round(_duration("--grace", grace)))
    home_runs = runs_dir if runs_dir is not None else collector_home() / "runs"
    return Job(
        id=new_job_id(), name=name or f"{playbook.stem}@{host}", playbook=str(playbook.resolve()), target=target,
        trigger=kind,  # type: ignore[arg-type]
        spec=spec, first_run=first, for_seconds=for_seconds, grace_seconds=grace_seconds,
        password_env=password_env, password_command=password_command, enable_env=enable_env,
        enable_command=enable_command, key=_abs(key), known_hosts=_abs(known_hosts),
        accept_new_host_key=accept_new_host_key, no_ssh_config=no_ssh_config, runs_dir=str(home_runs.resolve()),
        bundle=bundle, case=case, platform=platform, vars=list(vars or []), launcher=launcher,
        workdir=str(home_runs.resolve().parent), created=now.timestamp(),
        inventory=str(inventory.resolve()) if inventory is not None else None, limits=list(limits or []),
        filters=list(filters or []), workers=workers,
    )


def _host(parsed: Any) -> str:
    return str(parsed.host or Path(parsed.path or "device").name)


def _inventory_check(inventory: Path, limits: list[str] | None, filters: list[str] | None) -> str:
    """The inventory loads, holds no secret value, and the selection is not empty: checked now, not at 2 a.m."""
    from ..fleet.inventory import load_inventory
    from ..fleet.select import select

    devices = select(load_inventory(inventory).devices, limits or [], filters or []).devices
    return f"{len(devices)} devices" if len(devices) != 1 else devices[0].name


def _abs(path: str | None) -> str | None:
    return str(Path(path).expanduser().resolve()) if path else None


def collector_home() -> Path:
    """$COLLECTOR_HOME, default the user data directory (~/.local/share/collector)."""
    from ..paths import data_dir

    return data_dir()


def default_store_path() -> Path:
    return collector_home() / "schedule.db"
