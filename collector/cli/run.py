"""`collector run` and `collector resume`: one playbook against one target, and its continuation.

Every choice is typed (flags.py) and recorded in run.json; resume reuses it, options given again override it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import CollectorError, UsageError
from ..ui.console import err, fail
from . import logs
from . import options as o
from .flags import ConnectFlags, CredentialFlags, source
from .outcome import print_outcome

if TYPE_CHECKING:
    from ..runner.runner import RunOptions
    from ..target import Target


def credential_flags(password_env: str | None, password_command: str | None, ask_password: bool,
                     enable_env: str | None, enable_command: str | None, ask_enable: bool, key: str | None,
                     key_passphrase_env: str | None, key_passphrase_command: str | None, ask_key_passphrase: bool,
                     otp_command: str | None, jump_password_env: list[str] | None) -> CredentialFlags:
    from ..runner.run_info import CredentialRecord

    return CredentialFlags(CredentialRecord(
        password=source(password_env, password_command, ask_password, "password"),
        enable=source(enable_env, enable_command, ask_enable, "enable secret"),
        key_passphrase=source(key_passphrase_env, key_passphrase_command, ask_key_passphrase, "key passphrase"),
        key_file=key, otp_command=otp_command, jump_passwords=list(jump_password_env or []),
    ))


def run(
    playbook: Annotated[str, typer.Argument(metavar="PLAYBOOK", help="playbook file, or a library name")],
    target: o.OptTarget = None,
    inventory: o.Inventory = None, limit: o.Limit = None, filter_: o.Filter = None, workers: o.Workers = None,
    dry_run: o.DryRun = False, logins_per_host: o.LoginsPerHost = 8, logins_per_aaa: o.LoginsPerAaa = 10,
    jump: o.Jump = None, jump_mode: o.JumpMode = "direct", jump_password_env: o.JumpPw = None,
    password_env: o.PwEnv = None, password_command: o.PwCmd = None, ask_password: o.AskPw = False,
    enable_env: o.EnEnv = None, enable_command: o.EnCmd = None, ask_enable: o.AskEn = False,
    key: o.Key = None, key_passphrase_env: o.KeyPwEnv = None, key_passphrase_command: o.KeyPwCmd = None,
    ask_key_passphrase: o.AskKeyPw = False, otp_command: o.OtpCmd = None,
    accept_new_host_key: o.Accept = False, known_hosts: o.Known = None, legacy_algorithms: o.Legacy = False,
    use_agent: o.Agent = False, no_ssh_config: o.NoSshConfig = False, send_break: o.SendBreak = False,
    platform: Annotated[str | None, typer.Option("--platform", metavar="NAME",
                                                 help="override the playbook's platform")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", metavar="NAME=VALUE",
                                                  help="set a declared playbook variable")] = None,
    allow_changes: o.AllowChanges = False,
    case: Annotated[str | None, typer.Option("--case", metavar="NUMBER", help="support case number")] = None,
    runs_dir: o.RunsDir = Path("runs"),
    chunk_size: Annotated[str, typer.Option("--chunk-size", metavar="SIZE", help="raw chunk size")] = "1MiB",
    reconnect_attempts: Annotated[int, typer.Option("--reconnect-attempts", metavar="N",
                                                    help="reconnects per drop")] = 5,
    reconnect_for: Annotated[str, typer.Option("--reconnect-for", metavar="TIME",
                                               help="give up reconnecting after, e.g. 30m")] = "30m",
    login_timeout: Annotated[str, typer.Option("--login-timeout", metavar="TIME",
                                               help="time to reach a prompt")] = "60s",
    bundle: Annotated[bool, typer.Option("--bundle", help="bundle the run when it ends")] = False,
    bundle_dir: Annotated[Path | None, typer.Option("--bundle-dir", metavar="DIR",
                                                    help="where --bundle writes (default: bundles/)")] = None,
    via: Annotated[str | None, typer.Option("--via", metavar="URL",
                                            help="run the devices on `collector worker`s (Redis URL)")] = None,
    timeout: Annotated[str | None, typer.Option("--timeout", metavar="TIME",
                                                help="--via: give up on devices not finished by then")] = None,
    as_json: o.Json = False, verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Run PLAYBOOK against a target (a run directory), or against an inventory's devices (a fleet directory)."""
    try:
        logs.setup(verbose, log_file)
        creds = credential_flags(password_env, password_command, ask_password, enable_env, enable_command,
                                 ask_enable, key, key_passphrase_env, key_passphrase_command, ask_key_passphrase,
                                 otp_command, jump_password_env)
        from ..runner.run_info import ConnectRecord

        connect = ConnectFlags(jump, ConnectRecord(
            jump_mode=jump_mode, legacy_algorithms=legacy_algorithms, use_agent=use_agent,
            ssh_config=not no_ssh_config, send_break=send_break, accept_new_host_key=accept_new_host_key,
            known_hosts=known_hosts))
        policy = _policy(reconnect_attempts, reconnect_for)
        if (target is None) == (inventory is None):
            raise UsageError("give --target URL (one device) or --inventory PATH (many), not both or neither")
        if inventory is None and (limit or filter_ or workers is not None or dry_run or via or timeout):
            raise UsageError("--limit, --filter, --workers, --dry-run, --via and --timeout work on an --inventory")
        if via is not None and workers is not None:
            raise UsageError("--workers bounds a local fleet; with --via each `collector worker --concurrency N` "
                             "bounds its own sessions")
        if timeout is not None and via is None:
            raise UsageError("--timeout applies to --via (a local fleet ends when its devices do)")
        if inventory is not None:
            from .fleet import run_fleet
            from .fleet_args import DEFAULT_WORKERS, FleetArgs

            code = run_fleet(FleetArgs(
                playbook, inventory, creds, connect, list(limit or []), list(filter_ or []),
                workers or DEFAULT_WORKERS, dry_run, logins_per_host, logins_per_aaa, platform, list(var or []),
                allow_changes, case, runs_dir, _size(chunk_size, _parse_size()), policy.attempts, policy.within,
                _duration("--login-timeout", login_timeout, _parse_duration()), bundle, bundle_dir, as_json, via,
                _duration("--timeout", timeout, _parse_duration()) if timeout else None))
        else:
            assert target is not None
            from .startup_gc import held

            with held():  # start-up makes long-lived objects, not garbage: collected again once connected
                code = _run(playbook, target, creds, connect, platform, list(var or []), allow_changes, case,
                            runs_dir, chunk_size, policy, login_timeout, bundle_dir if bundle else None, bundle,
                            as_json)
    except CollectorError as exc:
        fail(exc)
    raise typer.Exit(code)


def _policy(attempts: int, within: str) -> Any:
    from ..runner.connector import ReconnectPolicy
    from ..units import parse_duration

    return ReconnectPolicy(attempts=attempts, within=_duration("--reconnect-for", within, parse_duration))


def _parse_size() -> Any:
    from ..units import parse_size

    return parse_size


def _parse_duration() -> Any:
    from ..units import parse_duration

    return parse_duration


def _duration(flag: str, text: str, parse: Any) -> float:
    try:
        return float(parse(text))
    except ValueError as exc:
        raise UsageError(f"{flag} {text!r}: {exc}", hint="write it as 30s, 10m, 1h") from None


def _run(playbook: str, target_url: str, creds: CredentialFlags, connect: ConnectFlags, platform_name: str | None,
         var: list[str], allow_changes: bool, case: str | None, runs_dir: Path, chunk_size: str, policy: Any,
         login_timeout: str, bundle_dir: Path | None, bundle: bool, as_json: bool) -> int:
    from ..playbook.variables import parse_var_overrides
    from ..runner.runner import RunOptions
    from ..target import parse_target
    from ..units import parse_duration, parse_size

    overrides = parse_var_overrides(var)
    steps, info, platform, retarget = _plan(playbook, platform_name, overrides, allow_changes)
    target = parse_target(target_url)
    credentials = creds.build(target.user, interactive=not as_json)
    logs.mask(credentials.masker)
    opts = connect.options(target, credentials, creds.record.jump_passwords)
    ropts = RunOptions(runs_dir=runs_dir, chunk_size=_size(chunk_size, parse_size), policy=policy,
                       login_timeout=_duration("--login-timeout", login_timeout, parse_duration), case=case,
                       allow_changes=allow_changes, send_break=connect.record.send_break,
                       credential_sources=creds.record)
    outcome = _start(steps, platform, target, opts, ropts, info, as_json, resume_dir=None, retarget=retarget)
    extra: dict[str, Any] = {}
    if bundle and outcome.steps:
        from .bundles import build

        result = build([outcome.run_dir], bundle_dir or runs_dir.parent / "bundles", case=case, quiet=as_json,
                       as_json=as_json, extra_secrets=[s for s in (credentials.password, credentials.enable) if s])
        extra["bundle"] = str(result.path)
    enable_given = creds.record.enable.given()
    return print_outcome(outcome, as_json, extra, enable_hint=not enable_given)


def _plan(name: str, platform_name: str | None, overrides: dict[str, str], allow_changes: bool) -> tuple[Any, ...]:
    """(steps, playbook record, platform, retarget): with `--platform auto` the steps come after detection."""
    from ..platforms import AUTO
    from ..playbook import check_playbook
    from ..playbook.library import find_playbook, is_family
    from ..runner.plan import plan_steps, playbook_info
    from .load import load_checked_playbook, platform_for

    if platform_name == AUTO and is_family(name):  # tac/high-cpu: the detected platform's version
        from ..runner.autoplan import LibraryRetarget, placeholder

        return [], placeholder(name), platform_for(AUTO), LibraryRetarget(name, overrides, allow_changes)
    loaded = load_checked_playbook(find_playbook(name, platform_name), overrides)
    platform = platform_for(platform_name or loaded.model.platform)
    if platform.name == AUTO:
        from ..runner.autoplan import PlaybookRetarget

        return [], playbook_info(loaded, overrides), platform, PlaybookRetarget(loaded, overrides, allow_changes)
    check_playbook(loaded, platform, allow_changes)
    return plan_steps(loaded.model), playbook_info(loaded, overrides), platform, None


def _size(text: str, parse: Any) -> int:
    try:
        return int(parse(text))
    except ValueError as exc:
        raise UsageError(f"--chunk-size {text!r}: {exc}", hint="e.g. --chunk-size 1MiB") from None


def _start(steps: Any, platform: Any, target: Target, opts: Any, ropts: RunOptions, playbook: Any, as_json: bool,
           resume_dir: Path | None, retarget: Any = None) -> Any:
    from ..runner.history import expected_sizes
    from ..runner.observer import RunObserver
    from ..runner.runner import Runner
    from ..ui.log_observer import LoggingObserver, Observers
    from ..ui.progress import RichObserver
    from .startup_gc import ReleaseWhenConnected

    shown: RunObserver = RunObserver() if as_json else RichObserver(
        err(), expected_sizes(ropts.runs_dir, target.slug(), playbook.name))
    observers = Observers([shown, LoggingObserver(), ReleaseWhenConnected()])
    runner = Runner(steps, platform, target, opts, ropts, observers, playbook_info=playbook, retarget=retarget)
    return runner.resume(resume_dir) if resume_dir is not None else runner.start()


def resume(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR|FLEET_DIR",
                                            help="run directory (or fleet directory) to continue")],
    password_env: o.PwEnv = None, password_command: o.PwCmd = None, ask_password: o.AskPw = False,
    enable_env: o.EnEnv = None, enable_command: o.EnCmd = None, ask_enable: o.AskEn = False,
    key: o.Key = None, key_passphrase_env: o.KeyPwEnv = None, key_passphrase_command: o.KeyPwCmd = None,
    ask_key_passphrase: o.AskKeyPw = False, otp_command: o.OtpCmd = None,
    accept_new_host_key: o.Accept = False, known_hosts: o.Known = None,
    jump: o.Jump = None, jump_password_env: o.JumpPw = None,
    target: Annotated[str | None, typer.Option("--target", metavar="URL",
                                               help="override the recorded target")] = None,
    allow_changes: o.AllowChanges = False,
    workers: o.Workers = None,
    as_json: o.Json = False, verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Continue a run that dropped, crashed or ended cleanup-pending; completed steps are not repeated.

    Credentials are obtained the way the run recorded (same variable, same command, or asked again).
    A fleet directory continues device by device: only the devices that did not finish run again.
    """
    try:
        logs.setup(verbose, log_file)
        given = credential_flags(password_env, password_command, ask_password, enable_env, enable_command,
                                 ask_enable, key, key_passphrase_env, key_passphrase_command, ask_key_passphrase,
                                 otp_command, jump_password_env)
        if (Path(run_dir) / "fleet.json").is_file():
            from .fleet import resume_fleet

            code = resume_fleet(run_dir, given, as_json, workers, allow_changes)
        else:
            from .startup_gc import held

            with held():
                code = _resume(run_dir, given, accept_new_host_key, known_hosts, jump, target, allow_changes, as_json)
    except CollectorError as exc:
        fail(exc)
    raise typer.Exit(code)


def _resume(run_dir: Path, given: CredentialFlags, accept: bool, known_hosts: str | None, jump: str | None,
            target_url: str | None, allow_changes: bool, as_json: bool) -> int:
    from urllib.parse import urlencode

    from ..runner.plan import plan_steps
    from ..runner.run_info import read_run_info
    from ..runner.runner import RunOptions
    from ..store.rundir import RunDir
    from ..target import parse_target
    from .load import reload_recorded_playbook

    rd = RunDir.open(run_dir)
    info = read_run_info(rd.read_run_info())
    loaded, platform = reload_recorded_playbook(info, allow_changes)
    text = target_url or info.target_url or info.target
    if info.connect.target_options and not target_url and "?" not in text:
        text = f"{text}?{urlencode(info.connect.target_options)}"
    target = parse_target(text)
    creds = given.over(info.credentials)
    credentials = creds.build(target.user, interactive=not as_json)
    logs.mask(credentials.masker)
    record = info.connect.model_copy(update={"accept_new_host_key": accept or info.connect.accept_new_host_key,
                                             "known_hosts": known_hosts or info.connect.known_hosts})
    jumps = jump if jump is not None else ",".join(info.jumps) or None
    opts = ConnectFlags(jumps, record).options(target, credentials, creds.record.jump_passwords)
    ropts = RunOptions(runs_dir=rd.path.parent, case=info.case, send_break=record.send_break,
                       allow_changes=allow_changes, credential_sources=creds.record)
    outcome = _start(plan_steps(loaded.model), platform, target, opts, ropts, info.playbook, as_json,
                     resume_dir=rd.path)
    return print_outcome(outcome, as_json, enable_hint=not creds.record.enable.given())
