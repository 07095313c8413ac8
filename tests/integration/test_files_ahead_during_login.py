"""A run makes its first step files while the device logs it in (waiting on the network), and its steps then
write into exactly those files; the number kept ready is bounded (per run, per fleet device, and by the process's
open-file limit)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.fleet.device_run import FLEET_FILES_AHEAD
from collector.platforms import load_platform
from collector.runner import link as link_module
from collector.runner import runner as runner_module
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer
from collector.store import ahead as ahead_module
from collector.store.ahead import DEPTH, FilesAhead
from collector.target import parse_target
from tests.faults.harness import PASSWORD, options

COMMANDS = ["show version", "show clock", "show ip interface brief", "show inventory", "show logging",
            "show ip route"]


@pytest.fixture
def device() -> Iterator[SimSSHServer]:
    with SimSSHServer(DeviceProfile.load("cisco_ios"), users={"admin": PASSWORD}) as srv:
        yield srv


def test_step_files_are_made_during_login_and_used_by_the_steps(device: SimSSHServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[FilesAhead] = []
    prepared: set[int] = set()

    class Recorded(FilesAhead):
        def start(self) -> FilesAhead:
            made.append(self)
            return super().start()

    real_connect = link_module.Link.connect

    def connect_after_files(self: Any) -> Any:
        ahead = made[-1]  # started before the login: every file it will make is made while we wait here
        with ahead._cond:
            assert ahead._cond.wait_for(lambda: len(ahead._ready) == len(COMMANDS), timeout=30)
            prepared.update(os.fstat(fd).st_ino for fd, _ in ahead._ready)
        return real_connect(self)

    monkeypatch.setattr(runner_module, "FilesAhead", Recorded)
    monkeypatch.setattr(link_module.Link, "connect", connect_after_files)
    steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=5.0) for i, c in enumerate(COMMANDS, 1)]
    outcome = Runner(steps, load_platform("cisco_ios"), parse_target(f"ssh://admin@127.0.0.1:{device.port}"),
                     options(tmp_path), RunOptions(runs_dir=tmp_path / "runs"), None,
                     playbook_info={"name": "ahead"}).start()
    assert outcome.status == "ok", outcome.error
    assert len(made) == 1 and len(prepared) == len(COMMANDS)
    files = [outcome.run_dir / r.file for r in outcome.steps if r.file]
    assert len(files) == len(COMMANDS) and {f.stat().st_ino for f in files} <= prepared | _named_mode(prepared)
    assert sorted(p.name for p in (outcome.run_dir / "steps").iterdir()) == sorted(f.name for f in files)


def _named_mode(prepared: set[int]) -> set[int]:
    """Named prepared files (no O_TMPFILE here) are renamed, so their inodes are the ones recorded too."""
    return set() if ahead_module.O_TMPFILE else prepared


def test_a_single_run_keeps_more_ready_than_a_fleet_device() -> None:
    assert RunOptions().files_ahead > FLEET_FILES_AHEAD >= DEPTH


def test_the_open_file_limit_bounds_what_is_kept_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda which: (64, 64))
    ahead = FilesAhead(tmp_path, 500, depth=128).start()
    with ahead._cond:
        ahead._cond.wait_for(lambda: len(ahead._ready) >= 16, timeout=30)
    assert ahead._depth == 16  # a quarter of the 64 descriptors allowed
    ahead.close()
    assert os.listdir(tmp_path) == []
