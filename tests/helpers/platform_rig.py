"""Run a playbook with the real Runner (in-process) against a platform's simulator profile over SSH or Telnet.

Used by the per-platform tests and by the library test that runs every shipped playbook end to end.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.credentials import Credentials
from collector.platforms import Platform, load_platform
from collector.playbook import check_playbook, load_playbook
from collector.runner.connector import ReconnectPolicy
from collector.runner.plan import PlannedStep, plan_steps, playbook_info
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer
from collector.sim.telnet_server import SimTelnetServer
from collector.target import parse_target
from collector.transports.base import ConnectOptions

USER = "admin"
PASSWORD = "rig-pw-4242"
ENABLE = "enable123"


@dataclass
class Rig:
    """A running simulator for one profile: its URL, its event log and the device (for expected outputs)."""

    url: str
    events: EventLog
    device: SimDevice
    profile: DeviceProfile

    def expected(self, command: str) -> str:
        return hashlib.sha256(b"".join(self.device.expected_output(command))).hexdigest()


def profile_for(name: str, transport: str, **overrides: Any) -> DeviceProfile:
    """The platform's profile; over Telnet the device asks for a username and password itself."""
    base = DeviceProfile.load(name)
    login = dict(overrides.pop("login", {}))
    login.setdefault("password", PASSWORD)
    login.setdefault("username", USER)
    if transport == "telnet" and base.login.mode == "none":
        login.setdefault("mode", "username-password")
    return DeviceProfile.load(name, login=login, **overrides)


@contextlib.contextmanager
def rig(name: str, transport: str, **overrides: Any) -> Iterator[Rig]:
    profile = profile_for(name, transport, **overrides)
    events = EventLog()
    if transport == "ssh":
        with SimSSHServer(profile, users={USER: PASSWORD}, events=events) as srv:
            yield Rig(f"ssh://{USER}@127.0.0.1:{srv.port}", events, srv.device, profile)
    else:
        with SimTelnetServer(profile, events=events) as srv:
            yield Rig(f"telnet://{USER}@127.0.0.1:{srv.port}", events, srv.device, profile)


def options(tmp: Path) -> ConnectOptions:
    creds = Credentials(username=USER, password=Secret(PASSWORD), enable=Secret(ENABLE))
    return ConnectOptions(credentials=creds, accept_new_host_key=True, known_hosts=str(tmp / "known_hosts"),
                          system_known_hosts=None, ssh_config=None, connect_timeout=5.0)


def run_options(tmp: Path, **extra: Any) -> RunOptions:
    return RunOptions(runs_dir=tmp / "runs", login_timeout=20,
                      policy=ReconnectPolicy(attempts=3, within=20, initial_wait=0.05, max_wait=0.2, jitter=0.05),
                      cleanup_policy=ReconnectPolicy(attempts=2, within=5, initial_wait=0.05, max_wait=0.2,
                                                     jitter=0.05), **extra)


def run_steps(steps: list[PlannedStep], platform: Platform, url: str, tmp: Path, **extra: Any) -> RunOutcome:
    runner = Runner(steps, platform, parse_target(url), options(tmp), run_options(tmp),
                    playbook_info={"name": "platform-rig"}, **extra)
    return runner.start()


def show_steps(*commands: str, cleanup: tuple[str, ...] = (), idle: float = 10.0) -> list[PlannedStep]:
    steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=idle) for i, c in enumerate(commands, 1)]
    for j, c in enumerate(cleanup, len(steps) + 1):
        steps.append(PlannedStep(index=j, name=c, command=c, kind="cleanup", idle_timeout=idle))
    return steps


def run_playbook(path: Path, url: str, tmp: Path, overrides: dict[str, str] | None = None) -> RunOutcome:
    """A library playbook as `collector run` runs it: loaded, guard-checked, planned, run."""
    loaded = load_playbook(path, overrides or {})
    platform = load_platform(loaded.model.platform)
    check_playbook(loaded, platform)
    runner = Runner(plan_steps(loaded.model), platform, parse_target(url), options(tmp), run_options(tmp),
                    playbook_info=playbook_info(loaded, overrides or {}))
    return runner.start()
