"""`collector sim ...`: run the embedded device simulator from the command line, and the demo server helper.

`collector sim ssh` serves a transcript profile over SSH until Ctrl-C/SIGTERM; `sim sha` prints expected hashes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UsageError

if TYPE_CHECKING:  # imported where used: the simulator's SSH stack is not loaded by other commands
    from .events import EventLog
    from .profile import DeviceProfile
    from .ssh_server import SimSSHServer

DEMO_USER = "admin"
DEMO_PASSWORD = "cisco123"

app = typer.Typer(no_args_is_help=True, help="Run simulated devices driven by transcripts/ (transcripts/README.md).")

PROFILE_HELP = "a platform's profile (transcripts/NAME, e.g. juniper_junos) or a directory"


def load_profile(profile: str, show_tech_mb: float | None = None) -> DeviceProfile:
    from .profile import DeviceProfile

    over: dict[str, Any] = {}
    if show_tech_mb is not None:
        over["show_tech_bytes"] = int(show_tech_mb * (1 << 20))
    return DeviceProfile.load(profile, **over)


def start_demo_server(
    profile: str | DeviceProfile = "cisco_ios",
    host: str = "127.0.0.1",
    port: int = 0,
    user: str = DEMO_USER,
    password: str = DEMO_PASSWORD,
    otp: str | None = None,
    show_tech_mb: float | None = None,
    legacy: bool = False,
    events: EventLog | str | Path | None = None,
    host_key_path: str | None = None,
) -> SimSSHServer:
    """Start (and return) a simulated SSH device; the caller stops it (or uses it as a context manager)."""
    from .events import EventLog
    from .profile import DeviceProfile
    from .ssh_server import SimSSHServer

    prof = profile if isinstance(profile, DeviceProfile) else load_profile(profile, show_tech_mb)
    if isinstance(profile, DeviceProfile) and show_tech_mb is not None:
        prof = prof.model_copy(update={"show_tech_bytes": int(show_tech_mb * (1 << 20))})
    log = events if isinstance(events, EventLog) else EventLog(events)
    srv = SimSSHServer(
        prof, host=host, port=port, users={user: password}, otp=otp, legacy=legacy, events=log,
        host_key_path=host_key_path,
    )
    return srv.start()


def _serve_forever(stop_cb: Any) -> None:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop_cb()


@app.command()
def ssh(
    host: Annotated[str, typer.Option(help="address to listen on (keep it on loopback)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one")] = 0,
    profile: Annotated[str, typer.Option(help=PROFILE_HELP)] = "cisco_ios",
    user: Annotated[str, typer.Option(help="accepted username")] = DEMO_USER,
    password_env: Annotated[
        str | None, typer.Option("--password-env", help="environment variable holding the accepted password")
    ] = None,
    otp: Annotated[str | None, typer.Option(help="also require this one-time password (keyboard-interactive)")] = None,
    show_tech_mb: Annotated[float | None, typer.Option("--show-tech-mb", help="size of `show tech-support`")] = None,
    legacy: Annotated[bool, typer.Option(help="only SHA-1 kex and ssh-rsa host key, like an old IOS")] = False,
    events: Annotated[Path | None, typer.Option(help="mirror the event log to this JSONL file")] = None,
    host_key: Annotated[
        Path | None, typer.Option("--host-key", help="host key file (created on first use): a stable fingerprint")
    ] = None,
    devices: Annotated[int, typer.Option("--devices", help="serve this many devices (R1, R2 ...), each on its "
                                         "own port")] = 1,
    inventory: Annotated[Path | None, typer.Option("--inventory", help="with --devices: write them as a CSV "
                                                   "inventory here")] = None,
) -> None:
    """Serve a simulated device (or --devices N of them) over SSH until Ctrl-C or SIGTERM."""
    # Scanners and refused algorithms make paramiko print server-side tracebacks; a simulator does not care.
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    if password_env is not None:
        if password_env not in os.environ:
            raise UsageError(f"environment variable {password_env} is not set")
        password = os.environ[password_env]
        shown = f"from ${password_env}"
    else:
        password = DEMO_PASSWORD
        shown = f"{DEMO_PASSWORD} (demo password; use --password-env VAR to choose one)"
    if devices > 1 or inventory is not None:
        _serve_fleet(devices, profile, host, user, password, show_tech_mb, events, host_key, inventory, password_env)
        return
    srv = start_demo_server(
        profile, host, port, user, password, otp, show_tech_mb, legacy, events,
        str(host_key) if host_key is not None else None,
    )
    p = srv.profile
    print(f"listening on {srv.host}:{srv.port}", flush=True)
    print(f"host key fingerprint {srv.fingerprint}", flush=True)
    print(f"profile {p.name} ({p.platform}), hostname {p.hostname}, show tech {p.show_tech_bytes:,} bytes", flush=True)
    print(f"user {user}, password {shown}" + (", OTP required" if otp else ""), flush=True)
    if p.enable_secret and p.platform == "cisco_ios":
        print(f"enable secret {p.enable_secret}", flush=True)
    _serve_forever(srv.stop)


def _serve_fleet(count: int, profile: str, host: str, user: str, password: str, show_tech_mb: float | None,
                 events: Path | None, host_key: Path | None, inventory: Path | None, password_env: str | None) -> None:
    from .events import EventLog
    from .fleet import SimFleet
    from .ssh_server import _load_or_make_key

    key = _load_or_make_key(str(host_key) if host_key is not None else None, False)
    fleet = SimFleet(count, load_profile(profile, show_tech_mb), users={user: password}, host=host, host_key=key,
                     events=EventLog(events)).start()
    for name, port in zip(fleet.names, fleet.ports, strict=True):
        print(f"device {name} listening on {host}:{port}", flush=True)
    print(f"host key fingerprint {fleet.fingerprint}", flush=True)
    if inventory is not None:
        fleet.inventory(inventory, user=user, password_env=password_env)
        print(f"inventory {inventory}", flush=True)
    _serve_forever(fleet.stop)


@app.command()
def telnet(
    host: Annotated[str, typer.Option(help="address to listen on (keep it on loopback)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 2323,
    profile: Annotated[str, typer.Option(help=PROFILE_HELP)] = "cisco_ios",
    events: Annotated[Path | None, typer.Option(help="mirror the event log to this JSONL file")] = None,
) -> None:
    """Serve a simulated device over Telnet (in-band login from the profile) until Ctrl-C."""
    try:
        from .telnet_server import run_telnet
    except ImportError as exc:
        raise UsageError("the Telnet front end is not available in this build") from exc
    run_telnet(profile, host=host, port=port, events_path=str(events) if events else None)


@app.command()
def sha(
    command: Annotated[str, typer.Argument(help='command, e.g. "show tech-support"')],
    profile: Annotated[str, typer.Option(help="transcript profile")] = "cisco_ios",
    show_tech_mb: Annotated[float | None, typer.Option("--show-tech-mb", help="size of `show tech-support`")] = None,
) -> None:
    """Print the SHA-256 and size of a command's canonical output (LF endings, no paging)."""
    from .device import SimDevice

    h = hashlib.sha256()
    n = 0
    for chunk in SimDevice(load_profile(profile, show_tech_mb)).expected_output(command):
        h.update(chunk)
        n += len(chunk)
    print(f"{h.hexdigest()}  {n} bytes  {command}")
