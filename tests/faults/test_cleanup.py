"""Cleanup guarantee: debug is switched off after a drop and at the end; unreachable → cleanup-pending → resume."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.platforms import load_platform
from collector.runner.connector import ReconnectPolicy
from collector.runner.observer import RunObserver
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer
from collector.store.journal import read_journal
from collector.target import parse_target
from tests.faults.harness import PASSWORD, options
from tests.servers.fault_proxy import DOWN, FaultProxy

STEPS = ["show version", "terminal monitor", "debug ip ospf adj", "show ip route", "show tech-support",
         "show clock", "show logging"]


def planned() -> list[PlannedStep]:
    steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=5.0) for i, c in enumerate(STEPS, 1)]
    steps.append(PlannedStep(index=len(steps) + 1, name="terminal no monitor", command="terminal no monitor",
                             kind="cleanup", idle_timeout=5.0))
    return steps


@pytest.fixture
def rig() -> Iterator[tuple[SimSSHServer, FaultProxy, EventLog]]:
    events = EventLog()
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=2 << 20, debug_rate=50)
    with SimSSHServer(profile, users={"admin": PASSWORD}, events=events) as srv:
        proxy = FaultProxy("127.0.0.1", srv.port).start()
        try:
            yield srv, proxy, events
        finally:
            proxy.stop()


def runner(proxy: FaultProxy, tmp: Path, observer: RunObserver | None = None) -> Runner:
    ro = RunOptions(runs_dir=tmp / "runs", policy=ReconnectPolicy(attempts=5, within=30, initial_wait=0.05,
                                                                   max_wait=0.2, jitter=0.05),
                    cleanup_policy=ReconnectPolicy(attempts=2, within=3, initial_wait=0.05, max_wait=0.1,
                                                   jitter=0.05))
    return Runner(planned(), load_platform("cisco_ios"), parse_target(f"ssh://admin@127.0.0.1:{proxy.port}"),
                  options(tmp), ro, observer, playbook_info={"name": "cleanup"})


def commands_per_connection(events: EventLog) -> list[list[str]]:
    """The commands the device received, split at each new connection."""
    conns: list[list[str]] = []
    for ev in events.events():
        if ev["kind"] == "connect":
            conns.append([])
        elif ev["kind"] == "command" and conns:
            conns[-1].append(ev["command"])
    return conns


class OnStep(RunObserver):
    """Runs `action` once, when step `name` starts (start=True) or finishes."""

    def __init__(self, name: str, action: Any, *, start: bool = False) -> None:
        self.name, self.action, self.start = name, action, start

    def _fire(self, name: str) -> None:
        if name == self.name and self.action is not None:
            self.action()
            self.action = None

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None:
        if self.start:
            self._fire(name)

    def step_finished(self, index: int, name: str, status: str, nbytes: int, duration: float) -> None:
        if not self.start:
            self._fire(name)


def test_drop_while_debug_on_sends_undebug_after_reconnect_and_at_end(
        rig: tuple[SimSSHServer, FaultProxy, EventLog], tmp_path: Path) -> None:
    _, proxy, events = rig
    # debug is on by then: cut the link in the middle of the show tech
    outcome = runner(proxy, tmp_path, OnStep("show tech-support", lambda: proxy.cut_after_bytes(600_000, DOWN),
                                             start=True)).start()
    assert outcome.status == "ok", outcome.error
    conns = commands_per_connection(events)
    assert len(conns) == 2
    before, after = conns
    assert "debug ip ospf adj" in before and "undebug all" not in before
    # after the reconnect, debug goes off before anything else the playbook runs (the show tech, cut by the drop,
    # continues by its sections: the section list comes first)
    resent = "show tech-support | include ^-+ show"
    assert resent in after, repr(conns)
    assert "undebug all" in after[: after.index(resent)]
    # ... and the cleanup at the end sends it too
    assert after[-2:] == ["undebug all", "terminal no monitor"] or after[-1] == "terminal no monitor"
    journal = list(read_journal(outcome.run_dir / "journal.jsonl"))
    kinds = [e["event"] for e in journal]
    assert kinds.count("connection-lost") == 1 and "cleanup-completed" in kinds
    assert [e for e in journal if e["event"] == "debug-off" and e.get("reason") == "reconnect"]


def test_unreachable_at_cleanup_is_pending_then_resume_clears_it(
        rig: tuple[SimSSHServer, FaultProxy, EventLog], tmp_path: Path) -> None:
    _, proxy, events = rig

    def kill_link() -> None:  # after the last step: the device becomes unreachable
        proxy.refuse_next(1000)
        proxy.cut_now()
        assert proxy.wait_for(lambda p: p.active == 0, timeout=10)

    outcome = runner(proxy, tmp_path, OnStep("show logging", kill_link)).start()
    assert outcome.status == "cleanup-pending"
    assert outcome.error is not None and outcome.error.exit_code == 23
    assert all(r.status == "ok" for r in outcome.steps if r.kind != "cleanup")
    assert "undebug all" not in events.commands()

    proxy.refuse_next(0)
    resumed = runner(proxy, tmp_path).resume(outcome.run_dir)
    assert resumed.status == "ok", resumed.error
    last = commands_per_connection(events)[-1]
    assert last.index("undebug all") < len(last)  # cleanup performed first, on the new connection
    assert "show version" not in last  # completed steps were not repeated
    kinds = [e["event"] for e in read_journal(outcome.run_dir / "journal.jsonl")]
    assert "cleanup-pending" in kinds and kinds[-2:] == ["cleanup-completed", "run-ended"]


@pytest.mark.parametrize("debug_on", ["debu ip ospf adj", "deb ip ospf adj"])
def test_an_abbreviated_debug_is_switched_off_at_the_end(
        rig: tuple[SimSSHServer, FaultProxy, EventLog], tmp_path: Path, debug_on: str) -> None:
    """The guard accepts `debu ...`; the runner must know it switched debug on (no cleanup steps declared)."""
    _, proxy, events = rig
    steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=5.0)
             for i, c in enumerate(["show clock", debug_on, "show version"], 1)]
    ro = RunOptions(runs_dir=tmp_path / "runs")
    outcome = Runner(steps, load_platform("cisco_ios"), parse_target(f"ssh://admin@127.0.0.1:{proxy.port}"),
                     options(tmp_path), ro, playbook_info={"name": "abbrev"}).start()
    assert outcome.status == "ok", outcome.error
    kinds = [e["kind"] for e in events.events()]
    assert "debug-on" in kinds and kinds.index("debug-off") > kinds.index("debug-on")
    assert events.commands()[-2:] == ["undebug all", "terminal no monitor"]
