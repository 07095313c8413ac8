"""A dial-in line for tests: the simulated router (or Linux host) behind the modem emulator, a throttled rate and a
carrier that drops every call after N seconds or N bytes; runs the real Runner in-process and reads the journal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.connector import ReconnectPolicy
from collector.runner.linestats import LineProgress
from collector.runner.observer import RunObserver
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.modem import ModemEmulator
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.store.journal import read_journal
from collector.target import parse_target
from collector.transports.base import ConnectOptions

FAST = "retry_wait=0.01&retry_jitter=0&dtr_hold=0.05&guard=0.05&probe_after=0.3&command_timeout=0.5"
PASSWORD, ENABLE = "cisco123", "enable123"


class Recorder(RunObserver):
    """Keeps every progress report and notice."""

    def __init__(self) -> None:
        self.progress: list[LineProgress] = []
        self.notices: list[str] = []

    def line_progress(self, progress: LineProgress) -> None:
        self.progress.append(progress)

    def notice(self, message: str) -> None:
        self.notices.append(message)


@dataclass
class DialinLine:
    """One modem line in front of one device; `url()` is the collector's target."""

    device: SimDevice
    bps: int
    drop_after_seconds: float | None = None
    drop_after_bytes: int | None = None
    redials: int = 50

    def __post_init__(self) -> None:
        self.events: EventLog = self.device.events
        self.modem = ModemEmulator(self.device, [f"CONNECT {self.bps}"], events=self.events, guard_time=0.05,
                                   line_rate_bps=self.bps, drop_after_seconds=self.drop_after_seconds,
                                   drop_after_bytes=self.drop_after_bytes)
        self.path = self.modem.start_pty()

    def url(self, **extra: Any) -> str:
        opts = {"number": "5551234", "baud": self.bps, "redials": self.redials, **extra}
        query = "&".join(f"{k}={v}" for k, v in opts.items())
        return f"modem://{self.path}?{query}&{FAST}"

    def quiet(self) -> None:
        """The line is good from now on."""
        self.modem.drop_after_seconds = None
        self.modem.drop_after_bytes = None

    def close(self) -> None:
        self.modem.close()

    def __enter__(self) -> DialinLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def router(show_tech: int, login: str = "username-password") -> SimDevice:
    profile = DeviceProfile.load("cisco_ios", login=LoginDialog(mode=login, banner=""), show_tech_bytes=show_tech)
    return SimDevice(profile, EventLog())


def linux_host() -> SimDevice:
    return SimDevice(DeviceProfile.load("linux", login=LoginDialog(mode="username-password")), EventLog())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected(device: SimDevice, command: str) -> str:
    return sha(b"".join(device.expected_output(command)))


def step(index: int, command: str, **kw: Any) -> PlannedStep:
    return PlannedStep(index=index, name=command, command=command, idle_timeout=kw.pop("idle_timeout", 10.0), **kw)


def run(steps: list[PlannedStep], url: str, tmp: Path, platform: str = "cisco_ios", observer: RunObserver | None = None,
        **ropts: Any) -> RunOutcome:
    creds = Credentials(username="admin", password=Secret(PASSWORD),
                        enable=Secret(ENABLE) if platform != "linux" else None)
    opts = ConnectOptions(credentials=creds, ssh_config=None, system_known_hosts=None)
    ro = RunOptions(runs_dir=tmp / "runs", login_timeout=20,
                    policy=ReconnectPolicy(attempts=6, within=60, initial_wait=0.05, max_wait=0.2, jitter=0.05),
                    cleanup_policy=ReconnectPolicy(attempts=2, within=10, initial_wait=0.05, max_wait=0.2, jitter=0.05),
                    **ropts)
    return Runner(steps, load_platform(platform), parse_target(url), opts, ro, observer,
                  playbook_info={"name": "dialin"}).start()


def journal(outcome: RunOutcome) -> list[dict[str, Any]]:
    return list(read_journal(outcome.run_dir / "journal.jsonl"))


def events(records: list[dict[str, Any]], name: str, **match: Any) -> list[dict[str, Any]]:
    return [e for e in records if e["event"] == name and all(e.get(k) == v for k, v in match.items())]


def sent_commands(line: DialinLine) -> list[str]:
    """What the device was asked to run (login dialog answers are not commands)."""
    return line.events.commands()
