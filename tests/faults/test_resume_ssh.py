"""Resume on drop over SSH, proven by a fault proxy: random cuts, every step once, identical hashes."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.runner.observer import RunObserver
from collector.sim.events import EventLog
from collector.sim.ssh_server import SimSSHServer
from collector.store.journal import read_journal
from tests.faults.harness import PASSWORD, Harness, check_complete, make_harness, run
from tests.servers.fault_proxy import DOWN, FaultProxy


class ArmOnConnect(RunObserver):
    """Arms a timed cut once the first session is logged in, so the cut lands inside the playbook."""

    def __init__(self, arm: Callable[[], None]) -> None:
        self.arm: Callable[[], None] | None = arm

    def connected(self, info: dict[str, Any], line_rate: int | None = None) -> None:
        if self.arm is not None:
            self.arm()
            self.arm = None


SAMPLE = 4  # cut points in the default run (2 by bytes, 2 by time); the full sweep of 50 is marked slow
FULL = 50


@pytest.fixture(scope="module")
def harness() -> Harness:
    return make_harness()


@pytest.fixture
def rig(harness: Harness) -> Iterator[tuple[SimSSHServer, FaultProxy, EventLog]]:
    events = EventLog()
    with SimSSHServer(harness.profile, users={"admin": PASSWORD}, events=events) as srv:
        proxy = FaultProxy("127.0.0.1", srv.port).start()
        try:
            yield srv, proxy, events
        finally:
            proxy.stop()


def total_stream(harness: Harness) -> int:
    return 3 << 20  # the show tech dominates; cuts land anywhere in the first ~3.3 MB


def one_trial(harness: Harness, rig: tuple[SimSSHServer, FaultProxy, EventLog], tmp: Path, cut: int,
              action: str = "cut", seconds: float | None = None) -> None:
    _, proxy, _ = rig
    before = proxy.faults
    observer = RunObserver()
    if seconds is not None:
        observer = ArmOnConnect(lambda: proxy.cut_after_seconds(seconds, action))
    else:
        proxy.cut_after_bytes(cut, DOWN, action)
    outcome = run(harness.steps(), f"ssh://admin@127.0.0.1:{proxy.port}", tmp, observer)
    fired = proxy.faults - before
    proxy.disarm()
    assert outcome.status == "ok", outcome.error
    check_complete(outcome, harness)
    events = list(read_journal(outcome.run_dir / "journal.jsonl"))
    drops = [e for e in events if e["event"] == "connection-lost"]
    reconnects = [e for e in events if e["event"] == "reconnected"]
    assert len(drops) == len(reconnects), (len(drops), len(reconnects))
    # every cut that hit the live session is accounted for (a timed cut may also close an idle,
    # already-finished connection, which the proxy counts too)
    assert len(drops) <= fired, (len(drops), fired)
    if seconds is None and fired:
        assert len(drops) >= 1
    # a step interrupted by the cut keeps its partial output on record
    for e in events:
        if e["event"] == "step-interrupted":
            assert (outcome.run_dir / e["partial_file"]).exists()
    manifest_state = json.loads((outcome.run_dir / "run.json").read_text())
    assert manifest_state["status"] == "ok"


def test_cut_mid_show_tech_resumes(harness: Harness, rig: tuple[SimSSHServer, FaultProxy, EventLog],
                                   tmp_path: Path) -> None:
    one_trial(harness, rig, tmp_path, 1_500_000)
    assert rig[1].faults == 1


def test_reset_instead_of_close(harness: Harness, rig: tuple[SimSSHServer, FaultProxy, EventLog],
                                tmp_path: Path) -> None:
    one_trial(harness, rig, tmp_path, 40_000, action="reset")


def test_refused_reconnects_are_retried(harness: Harness, rig: tuple[SimSSHServer, FaultProxy, EventLog],
                                        tmp_path: Path) -> None:
    _, proxy, _ = rig

    def arm() -> None:  # once logged in: cut soon, and refuse the next two connects
        proxy.refuse_next(2)
        proxy.cut_after_bytes(200_000, DOWN)

    outcome = run(harness.steps(), f"ssh://admin@127.0.0.1:{proxy.port}", tmp_path, ArmOnConnect(arm))
    assert outcome.status == "ok", outcome.error
    check_complete(outcome, harness)
    assert proxy.refused == 2
    attempts = [e for e in read_journal(outcome.run_dir / "journal.jsonl") if e["event"] == "reconnect-attempt"]
    assert len(attempts) == 2  # the two refused connects were journaled


def _sweep(harness: Harness, rig: tuple[SimSSHServer, FaultProxy, EventLog], tmp: Path, n: int) -> None:
    rng = random.Random(20261127)
    for trial in range(n):
        if trial % 2:  # odd trials cut by time, even ones by byte count
            one_trial(harness, rig, tmp / f"t{trial}", 0, seconds=rng.uniform(0.05, 0.6))
        else:
            one_trial(harness, rig, tmp / f"t{trial}", rng.randint(1, total_stream(harness)))


def test_random_cut_points_sample(harness: Harness, rig: tuple[SimSSHServer, FaultProxy, EventLog],
                                  tmp_path: Path) -> None:
    _sweep(harness, rig, tmp_path, SAMPLE)


@pytest.mark.slow
def test_random_cut_points_full(harness: Harness, rig: tuple[SimSSHServer, FaultProxy, EventLog],
                                tmp_path: Path) -> None:
    _sweep(harness, rig, tmp_path, FULL)
