"""Shared harness for fault tests: a simulator behind a fault proxy, a ≥10-step playbook, clean hashes.

Runs the real Runner in-process so each trial costs a fraction of a second.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.connector import ReconnectPolicy
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.sim.device import SimDevice
from collector.sim.profile import DeviceProfile
from collector.target import parse_target
from collector.transports.base import ConnectOptions

PASSWORD = "fault-pw-9911"
ENABLE = "enable123"
COMMANDS = [
    "show version", "show running-config", "show ip interface brief", "show clock", "show logging",
    "show processes cpu", "show inventory", "show ip route", "show tech-support", "show version",
    "show ip interface brief",
]


@dataclass
class Harness:
    profile: DeviceProfile
    expected: dict[str, str]

    def steps(self, cleanup: list[str] | None = None) -> list[PlannedStep]:
        steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=5.0) for i, c in enumerate(COMMANDS, 1)]
        for j, c in enumerate(cleanup or [], len(steps) + 1):
            steps.append(PlannedStep(index=j, name=c, command=c, kind="cleanup", idle_timeout=5.0))
        return steps


def make_harness(show_tech_bytes: int = 3 << 20) -> Harness:
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=show_tech_bytes)
    dev = SimDevice(profile)
    expected = {c: hashlib.sha256(b"".join(dev.expected_output(c))).hexdigest() for c in set(COMMANDS)}
    return Harness(profile, expected)


def options(tmp: Path) -> ConnectOptions:
    creds = Credentials(username="admin", password=Secret(PASSWORD), enable=Secret(ENABLE))
    return ConnectOptions(credentials=creds, accept_new_host_key=True, known_hosts=str(tmp / "known_hosts"),
                          system_known_hosts=None, ssh_config=None, connect_timeout=5.0)


def run(steps: list[PlannedStep], url: str, tmp: Path, observer: Any = None, **ropts: Any) -> RunOutcome:
    ro = RunOptions(runs_dir=tmp / "runs", chunk_size=256 << 10,
                    policy=ReconnectPolicy(attempts=8, within=60, initial_wait=0.05, max_wait=0.3, jitter=0.05),
                    cleanup_policy=ReconnectPolicy(attempts=2, within=5, initial_wait=0.05, max_wait=0.2, jitter=0.05),
                    login_timeout=15, **ropts)
    runner = Runner(steps, load_platform("cisco_ios"), parse_target(url), options(tmp), ro,
                    observer, playbook_info={"name": "faults"})
    return runner.start()


def check_complete(outcome: RunOutcome, h: Harness) -> None:
    """Every step exactly once, each file's SHA-256 equal to a clean run's (the simulator's source)."""
    main = [r for r in outcome.steps if r.kind != "cleanup"]
    assert [r.command for r in main] == COMMANDS
    for rec in main:
        assert rec.status == "ok", (rec.step, rec.status)
        data = (outcome.run_dir / rec.file).read_bytes() if rec.file else b""
        assert hashlib.sha256(data).hexdigest() == rec.sha256 == h.expected[rec.command], rec.command
