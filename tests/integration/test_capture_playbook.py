"""The shipped OSPF debug-capture playbook end to end: a drop mid-capture, a flap that triggers, debug always off."""

from __future__ import annotations

from pathlib import Path

from collector.platforms import load_platform
from collector.playbook import load_playbook
from collector.runner.connector import ReconnectPolicy
from collector.runner.observer import RunObserver
from collector.runner.plan import plan_steps, playbook_info
from collector.runner.runner import Runner, RunOptions
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer
from collector.store.journal import read_journal
from collector.target import parse_target
from tests.faults.harness import PASSWORD, options
from tests.servers.fault_proxy import DOWN, FaultProxy

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "cisco_ios" / "ospf-debug-capture.yaml"


class CutDuringCapture(RunObserver):
    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.armed = False

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None:
        if name == "ospf-adj" and not self.armed:
            self.armed = True
            self.proxy.cut_after_bytes(4_000, DOWN)  # a few debug lines in: the link drops


def test_ospf_capture_survives_a_drop_triggers_on_flap_and_switches_debug_off(tmp_path: Path) -> None:
    events = EventLog()
    profile = DeviceProfile.load("cisco_ios", debug_rate=40, flap_after=2.5)
    loaded = load_playbook(PLAYBOOK, {})
    steps = plan_steps(loaded.model)
    with SimSSHServer(profile, users={"admin": PASSWORD}, events=events) as srv, \
            FaultProxy("127.0.0.1", srv.port) as proxy:
        ro = RunOptions(runs_dir=tmp_path / "runs", policy=ReconnectPolicy(attempts=5, within=30, initial_wait=0.05,
                                                                           max_wait=0.2, jitter=0.05))
        outcome = Runner(steps, load_platform("cisco_ios"), parse_target(f"ssh://admin@127.0.0.1:{proxy.port}"),
                         options(tmp_path), ro, CutDuringCapture(proxy),
                         playbook_info=playbook_info(loaded)).start()
    assert outcome.status == "ok", outcome.error
    journal = list(read_journal(outcome.run_dir / "journal.jsonl"))
    kinds = [e["event"] for e in journal]
    assert kinds.count("connection-lost") == 1
    assert "capture-gap" in kinds
    stopped = next(e for e in journal if e["event"] == "capture-stopped")
    assert stopped["status"] == "stopped-by-trigger", stopped
    # the trigger ran its three show commands into their own step files
    trigger_files = [p.name for p in (outcome.run_dir / "steps").glob("*trigger*")]
    assert len(trigger_files) == 3, trigger_files
    # the device saw debug switched off after the reconnect and at the end
    conns: list[list[str]] = []
    for ev in events.events():
        if ev["kind"] == "connect":
            conns.append([])
        elif ev["kind"] == "command" and conns:
            conns[-1].append(ev["command"])
    assert len(conns) == 2
    second = conns[1]
    assert second.index("undebug all") < second.index("debug ip ospf adj")  # off first, then the capture resumes
    assert second[-2:] == ["undebug all", "terminal no monitor"]  # the playbook's cleanup at the very end
    assert (outcome.run_dir / "captures" / "ospf-adj" / "index.jsonl").exists()
    # trigger steps are records of their own, right after their capture, in the run's outcome
    kinds = [r.kind for r in outcome.steps]
    capture_at = kinds.index("capture")
    assert kinds[capture_at + 1 : capture_at + 4] == ["trigger"] * 3
    assert all(r.status == "ok" and r.sha256 for r in outcome.steps if r.kind == "trigger")
