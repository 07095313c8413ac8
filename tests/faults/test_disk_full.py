"""A disk that fills up mid-run (a real, small tmpfs): exit 20, consistent run.json and journal, nothing lost,
and `cleanup-pending` only when debug may really still be on at the device.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.errors import StoreError
from collector.platforms import load_platform
from collector.runner.connector import ReconnectPolicy
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer
from collector.store.journal import read_journal
from collector.target import parse_target
from tests.faults.harness import PASSWORD, options


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs: the run directory and nothing else lives there."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def run(commands: list[str], runs: Path, tmp: Path, events: EventLog) -> RunOutcome:
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=8 << 20, debug_rate=5)
    steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=5.0) for i, c in enumerate(commands, 1)]
    steps.append(PlannedStep(index=len(steps) + 1, name="terminal no monitor", command="terminal no monitor",
                             kind="cleanup", idle_timeout=5.0))
    with SimSSHServer(profile, users={"admin": PASSWORD}, events=events) as srv:
        ro = RunOptions(runs_dir=runs, chunk_size=256 << 10,
                        policy=ReconnectPolicy(attempts=2, within=5, initial_wait=0.05, max_wait=0.1, jitter=0.01))
        return Runner(steps, load_platform("cisco_ios"), parse_target(f"ssh://admin@127.0.0.1:{srv.port}"),
                      options(tmp), ro, playbook_info={"name": "disk-full"}).start()


def check_consistent(outcome: RunOutcome) -> list[dict[str, object]]:
    info = json.loads((outcome.run_dir / "run.json").read_text())
    journal = list(read_journal(outcome.run_dir / "journal.jsonl"))
    assert isinstance(outcome.error, StoreError) and outcome.error.exit_code == 20
    assert info["status"] == outcome.status != "running"
    assert journal[-1]["event"] == "run-ended" and journal[-1]["status"] == outcome.status
    # what reached the disk before it filled is kept: the first step's file and the partial of the big one
    assert (outcome.run_dir / "steps" / "001-show-version.txt").stat().st_size > 0
    assert list((outcome.run_dir / "steps").glob("*-show-tech-support.txt.partial.*"))
    return journal


def test_disk_full_without_debug_owes_no_cleanup(small_disk: Path, tmp_path: Path) -> None:
    events = EventLog()
    outcome = run(["show version", "show tech-support", "show clock"], small_disk / "runs", tmp_path, events)
    journal = check_consistent(outcome)
    assert outcome.status == "failed"
    assert not [e for e in journal if e["event"] == "cleanup-pending"]


def test_disk_full_with_debug_on_switches_it_off_or_says_so(small_disk: Path, tmp_path: Path) -> None:
    events = EventLog()
    outcome = run(["show version", "debug ip ospf adj", "show tech-support"], small_disk / "runs", tmp_path, events)
    info = json.loads((outcome.run_dir / "run.json").read_text())
    assert info["status"] in ("failed", "cleanup-pending")
    sent_off = any(e["kind"] == "debug-off" for e in events.events())
    # debug-off reached the device, or the run says truthfully that it may still be on
    assert sent_off != (info["status"] == "cleanup-pending")
