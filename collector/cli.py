"""The `collector` command line: run, resume, validate, schema, bundle, verify, upload, sim, demo.

Every CollectorError becomes one line plus a hint and the error class's exit code; never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from . import __version__
from .errors import BundleError, CollectorError, UploadError, UsageError
from .runner.observer import RunObserver
from .runner.runner import RunOptions, RunOutcome
from .schedule.cli import mount as mount_schedule
from .target import parse_jumps, parse_target

app = typer.Typer(
    name="collector",
    help="Collect show/debug output from network devices and deliver it, verified and redacted, to a support case.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

EXIT_STEP_ERRORS = 5

# -- shared options ---------------------------------------------------------------------------
TargetOpt = Annotated[str, typer.Option("--target", "-t", help="ssh://user@host[:port], telnet://, serial://, "
                                        "rfc2217://, socket://, modem:///dev/ttyS0?number=...")]
JumpOpt = Annotated[str | None, typer.Option("--jump", "-J", help="jump host(s): ssh://ops@dmz[,ssh://hop2]")]
JumpModeOpt = Annotated[str, typer.Option("--jump-mode", help="direct (SSH direct-tcpip) or shell (run the jump "
                                          "host's ssh/telnet client)")]
JumpPwOpt = Annotated[list[str] | None, typer.Option("--jump-password-env", help="password for jump hosts from an "
                                                     "env variable: VAR (every hop) or HOST=VAR (one hop)")]
PwEnv = Annotated[str | None, typer.Option("--password-env", help="read the password from this environment variable")]
PwCmd = Annotated[str | None, typer.Option("--password-command", help="run this command; first line = password")]
AskPw = Annotated[bool, typer.Option("--ask-password", help="prompt for the password (no echo)")]
EnEnv = Annotated[str | None, typer.Option("--enable-env", help="read the enable secret from this env variable")]
EnCmd = Annotated[str | None, typer.Option("--enable-command", help="run this command; first line = enable secret")]
AskEn = Annotated[bool, typer.Option("--ask-enable", help="prompt for the enable secret")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="SSH private key file")]
OtpCmd = Annotated[str | None, typer.Option("--otp-command", help="command printing a fresh one-time password")]
AcceptOpt = Annotated[bool, typer.Option("--accept-new-host-key", help="trust an unknown host key on first use "
                                         "(recorded); a changed key is always refused")]
KnownOpt = Annotated[str | None, typer.Option("--known-hosts", help="collector's own known_hosts file")]
RunsOpt = Annotated[Path, typer.Option("--runs-dir", help="where run directories are written")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print a JSON summary instead of tables")]


def _fail(exc: CollectorError) -> None:
    err.print(f"[bold red]error:[/] {exc.message}")
    if exc.hint:
        err.print(f"[dim]hint:[/] {exc.hint}")
    raise typer.Exit(exc.exit_code)


def _hop_credentials(specs: list[str] | None, jumps: list[Any], creds: Any) -> dict[str, Any]:
    """--jump-password-env VAR | HOST=VAR → the per-hop table the SSH jump code looks up."""
    from .secrets import secret_from_env

    table: dict[str, Any] = {}
    for spec in specs or []:
        host, _, var = spec.rpartition("=")
        secret = secret_from_env(var, "jump host password")
        creds.masker.add(secret)
        for hop in jumps:
            if not host or host in (hop.host, hop.display(), f"{hop.host}:{hop.port}"):
                table[hop.display()] = secret
    return table


def _options(target: str, jump: str | None, jump_mode: str, creds: Any, accept: bool, known: str | None,
             legacy: bool, use_agent: bool, no_ssh_config: bool, jump_passwords: list[str] | None = None
             ) -> tuple[Any, Any]:
    from .transports.base import ConnectOptions

    tgt = parse_target(target)
    if jump_mode not in ("direct", "shell"):
        raise UsageError(f"--jump-mode {jump_mode!r}: use direct or shell")
    opts = ConnectOptions(
        credentials=creds,
        accept_new_host_key=accept,
        known_hosts=known,
        legacy_algorithms=legacy,
        use_agent=use_agent,
        jumps=parse_jumps(jump),
        jump_mode=jump_mode,
        ssh_config=None if no_ssh_config else "~/.ssh/config",
    )
    if jump_passwords:
        opts.extra["hop_credentials"] = _hop_credentials(jump_passwords, opts.jumps, creds)
    return tgt, opts


def _print_outcome(outcome: RunOutcome, as_json: bool, extra: dict[str, Any] | None = None) -> int:
    from .ui.progress import summary_table

    total = sum(r.bytes for r in outcome.steps)
    if as_json:
        from .runner.signals import peak_rss_kib

        print(json.dumps({
            "run_dir": str(outcome.run_dir), "status": outcome.status,
            "error": outcome.error.message if outcome.error else None,
            "bytes": total, "peak_rss_kib": peak_rss_kib(), **(extra or {}),
            "steps": [r.to_json() for r in outcome.steps],
        }, indent=2, default=str))
    else:
        out.print(summary_table(outcome.steps, f"{outcome.run_dir.name}: {outcome.status}"))
        out.print(f"run directory: {outcome.run_dir}")
    if outcome.error is not None:
        err.print(f"[bold red]error:[/] {outcome.error.message}")
        if outcome.error.hint:
            err.print(f"[dim]hint:[/] {outcome.error.hint}")
        if outcome.status == "cleanup-pending":
            err.print("[bold red]CLEANUP PENDING[/]: debug or terminal monitor may still be on at the device. "
                      f"Run `collector resume {outcome.run_dir}` as soon as it is reachable.")
        return outcome.error.exit_code
    return EXIT_STEP_ERRORS if outcome.status == "completed-with-errors" else 0


# -- run -----------------------------------------------------------------------------------------
@app.command()
def run(
    playbook: Annotated[Path, typer.Argument(help="playbook YAML")],
    target: TargetOpt,
    jump: JumpOpt = None,
    jump_mode: JumpModeOpt = "direct",
    jump_password_env: JumpPwOpt = None,
    password_env: PwEnv = None,
    password_command: PwCmd = None,
    ask_password: AskPw = False,
    enable_env: EnEnv = None,
    enable_command: EnCmd = None,
    ask_enable: AskEn = False,
    key: KeyOpt = None,
    otp_command: OtpCmd = None,
    accept_new_host_key: AcceptOpt = False,
    known_hosts: KnownOpt = None,
    legacy_algorithms: Annotated[bool, typer.Option("--legacy-algorithms", help="allow SHA-1 kex / ssh-rsa for "
                                                    "old devices")] = False,
    use_agent: Annotated[bool, typer.Option("--use-agent", help="offer ssh-agent keys")] = False,
    no_ssh_config: Annotated[bool, typer.Option("--no-ssh-config", help="ignore ~/.ssh/config")] = False,
    platform: Annotated[str | None, typer.Option("--platform", help="override the playbook's platform")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="override a playbook variable: name=value")] = None,
    allow_changes: Annotated[bool, typer.Option("--allow-changes", help="permit configuration-changing commands "
                                                "the playbook allows")] = False,
    case: Annotated[str | None, typer.Option("--case", help="support case number (recorded in the run)")] = None,
    runs_dir: RunsOpt = Path("runs"),
    chunk_size: Annotated[str, typer.Option("--chunk-size", help="raw chunk size, e.g. 1MiB")] = "1MiB",
    reconnect_attempts: Annotated[int, typer.Option("--reconnect-attempts", help="reconnects per drop")] = 5,
    reconnect_for: Annotated[str, typer.Option("--reconnect-for", help="give up reconnecting after, e.g. 30m")] = "30m",
    login_timeout: Annotated[str, typer.Option("--login-timeout", help="time to reach a prompt")] = "60s",
    bundle: Annotated[bool, typer.Option("--bundle/--no-bundle", help="bundle the run when it ends")] = False,
    bundle_dir: Annotated[Path | None, typer.Option("--bundle-dir", help="where --bundle writes (default: bundles/ "
                                                    "beside the runs directory)")] = None,
    send_break: Annotated[bool, typer.Option("--send-break", help="send BREAK on a console before waking it")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """Run PLAYBOOK against a target and write a run directory."""
    try:
        code = _run(locals())
    except CollectorError as exc:
        _fail(exc)
    raise typer.Exit(code)


def _run(a: dict[str, Any]) -> int:
    from .playbook import check_playbook, load_playbook
    from .playbook.durations import parse_duration, parse_size
    from .playbook.variables import parse_var_overrides
    from .runner.connector import ReconnectPolicy
    from .runner.plan import plan_steps, playbook_info
    from .runner.runner import Runner
    from .ui.progress import RichObserver

    overrides = parse_var_overrides(a["var"] or [])
    loaded = load_playbook(a["playbook"], overrides)
    platform = _load_platform(a["platform"] or loaded.model.platform)
    check_playbook(loaded, platform, a["allow_changes"])
    target_url = parse_target(a["target"])
    creds = _credentials(a, target_url.user)
    tgt, opts = _options(a["target"], a["jump"], a["jump_mode"], creds, a["accept_new_host_key"], a["known_hosts"],
                         a["legacy_algorithms"], a["use_agent"], a["no_ssh_config"], a["jump_password_env"])
    ropts = RunOptions(
        runs_dir=a["runs_dir"], chunk_size=parse_size(a["chunk_size"]),
        policy=ReconnectPolicy(attempts=a["reconnect_attempts"], within=parse_duration(a["reconnect_for"])),
        login_timeout=parse_duration(a["login_timeout"]), case=a["case"], allow_changes=a["allow_changes"],
    )
    from .runner.history import expected_sizes

    if a["send_break"]:
        opts.extra["send_break"] = True
    sizes = expected_sizes(a["runs_dir"], tgt.slug(), loaded.model.name)
    observer: RunObserver = RunObserver() if a["as_json"] else RichObserver(err, sizes)
    runner = Runner(plan_steps(loaded.model), platform, tgt, opts, ropts, observer,
                    playbook_info=playbook_info(loaded, overrides))
    outcome = runner.start()
    extra: dict[str, Any] = {}
    if a["bundle"] and outcome.steps:
        bundle_dir = a["bundle_dir"] or a["runs_dir"].parent / "bundles"
        result = _bundle([outcome.run_dir], bundle_dir, a["case"], "default", None, None, "gz", None,
                         [s for s in (creds.password, creds.enable) if s], a["as_json"], quiet=a["as_json"])
        extra["bundle"] = str(result.path)
    return _print_outcome(outcome, a["as_json"], extra)


def _credentials(a: dict[str, Any], username: str | None) -> Any:
    """Credentials from the shared flags of `run` and `resume` (env, command or prompt; never the command line)."""
    from .ui.credentials import build_credentials

    return build_credentials(
        username=username, password_env=a["password_env"], password_command=a["password_command"],
        ask_password=a["ask_password"], enable_env=a["enable_env"], enable_command=a["enable_command"],
        ask_enable=a["ask_enable"], key_file=a["key"], otp_command=a["otp_command"], interactive=not a["as_json"],
    )


def _load_platform(name: str) -> Any:
    from .platforms import load_platform

    return load_platform(name)


# -- resume --------------------------------------------------------------------------------------
@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="run directory to continue")],
    password_env: PwEnv = None,
    password_command: PwCmd = None,
    ask_password: AskPw = False,
    enable_env: EnEnv = None,
    enable_command: EnCmd = None,
    ask_enable: AskEn = False,
    key: KeyOpt = None,
    otp_command: OtpCmd = None,
    accept_new_host_key: AcceptOpt = False,
    known_hosts: KnownOpt = None,
    jump: JumpOpt = None,
    jump_mode: JumpModeOpt = "direct",
    jump_password_env: JumpPwOpt = None,
    target: Annotated[str | None, typer.Option("--target", help="override the recorded target")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Continue a run that dropped, crashed or ended cleanup-pending; completed steps are not repeated."""
    try:
        code = _resume(locals())
    except CollectorError as exc:
        _fail(exc)
    raise typer.Exit(code)


def _resume(a: dict[str, Any]) -> int:
    from .playbook import recheck_recorded
    from .runner.plan import plan_steps
    from .runner.runner import Runner
    from .store.rundir import RunDir
    from .ui.progress import RichObserver

    rd = RunDir.open(a["run_dir"])
    info = rd.read_run_info()
    pb = info.get("playbook", {})
    # the recorded playbook, hash and --var values pass the read-only guard again (resume never allows changes)
    loaded, platform = recheck_recorded(pb, info.get("platform"), allow_changes=False)
    target_text = a["target"] or info.get("target_url") or info["target"]
    tgt = parse_target(target_text)
    creds = _credentials(a, tgt.user)
    jumps = a["jump"] if a["jump"] is not None else ",".join(info.get("jumps") or []) or None
    connect = info.get("connect") or {}
    if connect.get("target_options") and not a["target"] and "?" not in target_text:
        from urllib.parse import urlencode

        target_text = f"{target_text}?{urlencode(connect['target_options'])}"
    tgt, opts = _options(target_text, jumps, connect.get("jump_mode", a["jump_mode"]), creds,
                         a["accept_new_host_key"], a["known_hosts"], bool(connect.get("legacy_algorithms")),
                         bool(connect.get("use_agent")), not connect.get("ssh_config", True), a["jump_password_env"])
    observer: RunObserver = RunObserver() if a["as_json"] else RichObserver(err)
    runner = Runner(plan_steps(loaded.model), platform, tgt, opts,
                    RunOptions(runs_dir=rd.path.parent, case=info.get("case")), observer, playbook_info=pb)
    return _print_outcome(runner.resume(rd.path), a["as_json"])


# -- playbooks -----------------------------------------------------------------------------------
@app.command()
def validate(
    playbooks: Annotated[list[Path], typer.Argument(help="playbook YAML file(s)")],
    allow_changes: Annotated[bool, typer.Option("--allow-changes", help="check as `run --allow-changes`")] = False,
) -> None:
    """Check playbooks: every schema error and every command the read-only guard refuses, with file:line and a hint."""
    from rich.markup import escape

    from .playbook import validate_with_guard

    codes = [0]
    for path in playbooks:
        report = validate_with_guard(path, allow_changes)
        for text, hint in report.lines():
            err.print(f"[red]{escape(text)}[/]")
            if hint:
                err.print(f"  [dim]hint:[/] {escape(hint)}")
        if not report.exit_code:
            out.print(f"{escape(str(path))}: ok")
        codes.append(report.exit_code)
    if max(codes):
        raise typer.Exit(3 if 3 in codes else 4)  # 3: a schema error in any file; 4: only guard refusals


@app.command()
def schema() -> None:
    """Print the playbook JSON Schema (for editor completion)."""
    from .playbook import playbook_json_schema

    print(json.dumps(playbook_json_schema(), indent=2))


@app.command()
def platforms() -> None:
    """List the built-in platforms."""
    from .platforms import list_platforms

    for name in list_platforms():
        out.print(name)


# -- bundle / verify -----------------------------------------------------------------------------
@app.command()
def bundle(
    run_dirs: Annotated[list[Path], typer.Argument(help="run directories to bundle together")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="where the bundle is written")] = Path("bundles"),
    case: Annotated[str | None, typer.Option("--case", help="case number for the bundle name")] = None,
    redact: Annotated[str, typer.Option("--redact", help="redaction profile, or 'none'")] = "default",
    anonymize: Annotated[str | None, typer.Option("--anonymize", help="ips,hostnames,users[,words=FILE]")] = None,
    map_dir: Annotated[Path | None, typer.Option("--map-dir", help="where the private map goes (outside)")] = None,
    compression: Annotated[str, typer.Option("--compression", help="gz or xz")] = "gz",
    encrypt_to: Annotated[list[str] | None, typer.Option("--encrypt-to", help="age recipient public key")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a verified, redacted case bundle from run directories."""
    try:
        _bundle(run_dirs, out_dir, case, redact, anonymize, map_dir, compression, encrypt_to, None, as_json)
    except CollectorError as exc:
        _fail(exc)


def _bundle(run_dirs: list[Path], out_dir: Path, case: str | None, redact: str, anonymize: str | None,
            map_dir: Path | None, compression: str, encrypt_to: list[str] | None, extra: Any,
            as_json: bool, quiet: bool = False) -> Any:
    from .bundle import build_bundle

    kinds: set[str] = set()
    words: Path | None = None
    for item in (anonymize or "").split(","):
        item = item.strip()
        if item.startswith("words="):
            words = Path(item.split("=", 1)[1])
            kinds.add("words")
        elif item:
            kinds.add(item)
    result = build_bundle(
        run_dirs, out_dir, case=case, redact=None if redact == "none" else redact, anonymize=kinds or None,
        words_file=words, compression=compression, encrypt_to=encrypt_to, extra_secrets=extra or [], map_dir=map_dir,
    )
    if quiet:
        return result
    if as_json:
        print(json.dumps({"bundle": str(result.path), "sha256": result.sha256,
                          "map": str(result.map_path) if result.map_path else None,
                          "redactions": result.redaction_counts}))
    else:
        out.print(f"bundle: {result.path}")
        out.print(f"sha256: {result.sha256}  ({result.sha256_path.name})")
        if result.map_path:
            out.print(f"private map (keep it, never send it): {result.map_path}")
    return result


@app.command()
def verify(bundle_path: Annotated[Path, typer.Argument(help="bundle archive")]) -> None:
    """Check a bundle: archive checksum and every member against the manifest."""
    from .bundle import verify_bundle

    try:
        report = verify_bundle(bundle_path)
    except CollectorError as exc:
        _fail(exc)
    if report.ok:
        out.print(f"{bundle_path}: ok ({report.checked} members verified)")
        return
    for problem in report.problems:
        err.print(f"[red]{problem}[/]")
    _fail(BundleError(f"{bundle_path}: verification failed at {report.first_bad}"))


# -- upload --------------------------------------------------------------------------------------
@app.command()
def upload(
    bundle_path: Annotated[Path, typer.Argument(help="bundle archive to send")],
    case: Annotated[str | None, typer.Option("--case", help="case / SR number (the upload user)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="https://host/path/, sftp://user@host/dir, tus+https://")]
    = None,
    token_env: Annotated[str | None, typer.Option("--token-env", help="env variable holding the upload token")]
    = None,
    token_command: Annotated[str | None, typer.Option("--token-command", help="command printing the token")] = None,
    ask_token: Annotated[bool, typer.Option("--ask-token", help="prompt for the upload token")] = False,
    part_size: Annotated[str, typer.Option("--part-size", help="part size, e.g. 64MiB")] = "64MiB",
    ca_bundle: Annotated[Path | None, typer.Option("--ca-bundle", help="CA certificates to trust")] = None,
    accept_new_host_key: AcceptOpt = False,
    known_hosts: KnownOpt = None,
    status: Annotated[bool, typer.Option("--status", help="show what the case has received")] = False,
) -> None:
    """Upload a bundle to the case, resumably (re-run the same command to continue)."""
    from .playbook.durations import parse_size
    from .ui.credentials import _one_source
    from .upload import format_status, upload_bundle, upload_status

    try:
        if status:
            out.print(format_status(upload_status(bundle_path)))
            return
        if not to or not case:
            raise UsageError("--to and --case are required", hint="e.g. --to https://upload.example/home/ --case 6999")
        token = _one_source("token", token_env, token_command, ask_token)
        result = upload_bundle(bundle_path, to=to, case=case, token=token, part_size=parse_size(part_size),
                               ca_bundle=ca_bundle, accept_new_host_key=accept_new_host_key,
                               known_hosts=Path(known_hosts) if known_hosts else None)
    except CollectorError as exc:
        _fail(exc)
    out.print(f"case {case}: {result.summary()}")
    if not result.complete:
        _fail(UploadError("the upload is incomplete", hint="re-run the same command: it sends only what is missing"))


# -- simulator and demo --------------------------------------------------------------------------
def _mount_sim() -> None:
    try:
        from .sim.cli import app as sim_app
    except ImportError:  # pragma: no cover
        return
    app.add_typer(sim_app, name="sim", help="Run the embedded device simulator (SSH/Telnet/serial/modem).")


_mount_sim()
mount_schedule(app)


@app.command()
def demo(
    runs_dir: RunsOpt = Path("runs"),
    out_dir: Annotated[Path, typer.Option("--out", help="bundle directory")] = Path("bundles"),
    show_tech_mb: Annotated[int, typer.Option("--show-tech-mb", help="size of the simulated show tech")] = 8,
) -> None:
    """Start the simulator, run playbooks/cisco_ios/tac-baseline.yaml over SSH, bundle it, print the path."""
    from .demo import run_demo

    try:
        code, bundle_path = run_demo(runs_dir, out_dir, show_tech_mb, err)
    except CollectorError as exc:
        _fail(exc)
    if bundle_path is not None:
        out.print(f"[bold]bundle:[/] {bundle_path}")
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the collector version."""
    out.print(__version__)


def main() -> None:
    """Entry point: run the app, turning stray errors into one line (never a traceback)."""
    try:
        app()
    except CollectorError as exc:  # pragma: no cover - commands handle their own
        err.print(f"error: {exc.message}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the details for --debug
        if os.environ.get("COLLECTOR_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}")
        err.print("[dim]hint:[/] re-run with COLLECTOR_DEBUG=1 for the traceback and report it")
        sys.exit(70)
