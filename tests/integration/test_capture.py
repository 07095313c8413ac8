"""Capture steps against the simulator: every until-condition, triggers, rotation, rate guard, keepalive, drops.

Most tests use the in-memory transport (fast); the resume test goes over SSH through a fault proxy.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.credentials import Credentials
from collector.errors import ConnectionLost
from collector.platforms import load_platform
from collector.playbook.schema import CaptureStep
from collector.runner.capture import CaptureOutcome, CaptureRunner
from collector.runner.capture_io import new_log_lines
from collector.runner.connector import Connector, ReconnectPolicy
from collector.runner.plan import PlannedStep
from collector.secrets import Secret
from collector.session.session import NullSink, Session
from collector.sim.device import FLAP_LINE, SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer
from collector.store.capture_files import iter_line_times, read_seals
from collector.store.journal import read_journal
from collector.store.rundir import RunDir
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from tests.helpers.memory_transport import MemoryTransport
from tests.servers.fault_proxy import FaultProxy

IOS = load_platform("cisco_ios")
ENABLE = "enable123"
SEQ = re.compile(rb"^(\d{6}): ")
START = ["terminal monitor", "debug ip ospf adj"]
STOP = ["undebug all", "terminal no monitor"]


class SlowMemoryTransport(MemoryTransport):
    """The in-memory transport dressed as a 9600-bps console line."""

    @property
    def line_rate(self) -> int | None:
        return 9600


class Rig:
    """A logged-in session on a simulated router (in memory), a run directory and the device's event log."""

    def __init__(self, tmp: Path, transport: type[MemoryTransport] = MemoryTransport, **profile: Any) -> None:
        self.events = EventLog()
        self.profile = DeviceProfile.load("cisco_ios", **profile)
        self.transport = transport(self.profile, events=self.events)
        self.transport.open()
        self.rundir = RunDir.create(tmp / "runs", "sim", "capture")
        self.journal = self.rundir.journal()
        creds = Credentials(username="admin", password=Secret("cisco123"), enable=Secret(ENABLE))
        self.raw = self.rundir.raw_stream()
        self.session = Session(self.transport, IOS, creds, self.raw, wake_after=0.5)
        self.session.open(timeout=10)

    def capture(self, *, index: int = 1, stop_event: threading.Event | None = None,
                clock: Callable[[], float] = time.monotonic, runner_kw: dict[str, Any] | None = None,
                **spec: Any) -> CaptureOutcome:
        self.runner = make_runner(self.rundir, self.journal, index=index, stop_event=stop_event, clock=clock,
                                  runner_kw=runner_kw, **spec)
        return self.runner.run(self.session, no_reconnect)

    def close(self) -> None:
        self.session.close()
        self.raw.close()

    def records(self, event: str | None = None) -> list[dict[str, Any]]:
        return [e for e in read_journal(self.rundir.journal_path) if event is None or e["event"] == event]

    def capture_dir(self, name: str = "ospf") -> Path:
        return self.rundir.captures_dir / name


def make_runner(rundir: RunDir, journal: Any, *, index: int = 1, stop_event: threading.Event | None = None,
                clock: Callable[[], float] = time.monotonic, runner_kw: dict[str, Any] | None = None,
                **spec: Any) -> CaptureRunner:
    data: dict[str, Any] = {"capture": "ospf", "start": START, "stop": STOP, "until": {"duration": "10s"}}
    data.update(spec)
    model = CaptureStep.model_validate(data)
    step = PlannedStep(index=index, name=model.capture, command="", kind="capture", idle_timeout=10.0, capture=model)
    return CaptureRunner(step, IOS, rundir, journal, clock=clock, stop_event=stop_event, **(runner_kw or {}))


def no_reconnect(cause: str) -> Session:
    raise ConnectionLost(f"test: no reconnect ({cause})")


@pytest.fixture
def rig_factory(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def make(**profile: Any) -> Rig:
        rig = Rig(tmp_path / f"r{len(rigs)}", **profile)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def captured_lines(d: Path) -> list[bytes]:
    """All lines of a capture, checking every seal (length, SHA-256) on the way."""
    out: list[bytes] = []
    for seal in read_seals(d):
        data = (d / seal.file).read_bytes()
        assert len(data) == seal.length and hashlib.sha256(data).hexdigest() == seal.sha256, seal.file
        out += data.splitlines()
    return out


def seqs(lines: list[bytes]) -> list[int]:
    return [int(m.group(1)) for m in (SEQ.match(x) for x in lines) if m]


def assert_contiguous(numbers: list[int], first: int = 1) -> None:
    assert numbers, "no debug lines"
    assert numbers == list(range(first, first + len(numbers))), numbers[:50]


def undebug_after_last_debug(events: EventLog) -> bool:
    cmds = events.commands()
    last_debug = max(i for i, c in enumerate(cmds) if c.startswith("debug"))
    return "undebug all" in cmds[last_debug:]


# -- until ---------------------------------------------------------------------------------------------------
def test_until_duration(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)
    t0 = time.monotonic()
    out = rig.capture(until={"duration": "1s"})
    elapsed = time.monotonic() - t0
    assert out.status == "duration" and 1.0 <= elapsed < 3.0
    lines = captured_lines(rig.capture_dir())
    assert len(lines) == out.lines >= 30
    assert_contiguous(seqs(lines))
    # the capture opens with what the start commands printed; no echo, prompt or blank line anywhere
    assert lines[0] == b"ip ospf adj debugging is on"
    assert all(SEQ.match(x) for x in lines[1:])
    assert out.files == [f"captures/ospf/{s.file}" for s in read_seals(rig.capture_dir())]
    assert rig.events.commands()[-2:] == STOP and undebug_after_last_debug(rig.events)
    names = [e["event"] for e in rig.records()]
    for ev in ("step-started", "capture-mode", "capture-started", "debug-on", "debug-off", "capture-stopped",
               "step-completed"):
        assert ev in names, ev
    done = rig.records("step-completed")[-1]
    assert done["kind"] == "capture" and done["status"] == "ok" and done["capture_status"] == "duration"
    state = rig.rundir.state()
    assert state.steps[("main", 1)].status == "ok" and not state.debug_active
    # one receive time per line, in order, monotonic and UTC
    times = list(iter_line_times(rig.capture_dir()))
    assert len(times) == len(lines)
    assert all(a.mono <= b.mono for a, b in zip(times, times[1:], strict=False))
    assert times[-1].mono - times[0].mono > 0.5


def test_until_bytes(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=400)
    out = rig.capture(until={"duration": "20s", "bytes": 6000})
    assert out.status == "bytes"
    assert 6000 <= out.bytes < 6000 + 20_000
    assert_contiguous(seqs(captured_lines(rig.capture_dir())))
    assert undebug_after_last_debug(rig.events)


def test_until_match_on_the_flap_line(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=30, flap_after=0.4)
    out = rig.capture(until={"duration": "20s", "match": r"ADJCHG: .* FULL to DOWN"})
    assert out.status == "stopped-by-match" and "ADJCHG" in out.reason
    lines = captured_lines(rig.capture_dir())
    assert any(FLAP_LINE.encode() in x for x in lines)
    assert rig.events.count("flap") == 1 and undebug_after_last_debug(rig.events)


def test_until_stop_file(rig_factory: Callable[..., Rig], tmp_path: Path) -> None:
    rig = rig_factory(debug_rate=50)
    stop = tmp_path / "stop-now"

    def touch() -> None:
        rig.events.wait_count("debug-on", 1, timeout=10)
        stop.write_text("")

    threading.Thread(target=touch, daemon=True).start()
    out = rig.capture(until={"duration": "20s", "stop_file": str(stop)})
    assert out.status == "stop-file" and str(stop) in out.reason
    assert undebug_after_last_debug(rig.events)


def test_stop_event_is_sigint(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)
    stop = threading.Event()

    def fire() -> None:
        rig.events.wait_count("debug-on", 1, timeout=10)
        stop.set()

    threading.Thread(target=fire, daemon=True).start()
    out = rig.capture(until={"duration": "20s"}, stop_event=stop)
    assert out.status == "interrupted"
    assert rig.events.commands()[-2:] == STOP
    assert rig.records("step-completed")[-1]["status"] == "ok"


def test_keyboard_interrupt_still_switches_debug_off(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)
    calls = {"n": 0}

    def clock() -> float:  # Ctrl-C lands in the middle of the capture loop
        if rig.events.count("debug-on"):
            calls["n"] += 1
            if calls["n"] == 20:
                raise KeyboardInterrupt
        return time.monotonic()

    with pytest.raises(KeyboardInterrupt):
        rig.capture(until={"duration": "20s"}, clock=clock)
    assert undebug_after_last_debug(rig.events)
    names = [e["event"] for e in rig.records()]
    assert "debug-off" in names and "step-interrupted" in names and "step-completed" not in names
    assert rig.rundir.state().steps[("main", 1)].status == "interrupted"
    assert_contiguous(seqs(captured_lines(rig.capture_dir())))  # what arrived is sealed


# -- triggers ------------------------------------------------------------------------------------------------
def test_trigger_debounce_and_max_runs(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=40)
    trigger = {"match": "HELLO", "run": ["show clock"], "debounce": "0.3s", "max_runs": 3}
    out = rig.capture(until={"duration": "1.6s"}, on_match=[trigger])
    files = sorted(rig.rundir.steps_dir.glob("001-ospf-trigger-1-*-show-clock.txt"))
    assert len(files) == 3 == out.triggers_fired
    expected = hashlib.sha256(b"".join(SimDevice(rig.profile).expected_output("show clock"))).hexdigest()
    assert all(hashlib.sha256(f.read_bytes()).hexdigest() == expected for f in files)
    assert rig.events.commands().count("show clock") == 3
    fired = rig.records("trigger-fired")
    done = rig.records("trigger-step-completed")
    assert [e["run"] for e in fired] == [1, 2, 3] and len(done) == 3
    for prev_done, nxt in zip(done, fired[1:], strict=False):  # debounce counts from the end of the run
        assert nxt["mono"] - prev_done["mono"] >= 0.29
    assert rig.runner.triggers.states[0].ignored > 0
    # triggers ran while capturing: lines before and after them are all in the capture
    assert_contiguous(seqs(captured_lines(rig.capture_dir())))


def test_trigger_then_stop(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=20, flap_after=0.3)
    trigger = {"match": "ADJCHG", "run": ["show ip route", "show clock"], "then": "stop"}
    out = rig.capture(until={"duration": "20s"}, on_match=[trigger])
    assert out.status == "stopped-by-trigger" and out.triggers_fired == 1
    assert [Path(f).name for f in out.trigger_files] == [
        "001-ospf-trigger-1-1-show-ip-route.txt", "001-ospf-trigger-1-1-show-clock.txt"]
    cmds = rig.events.commands()
    assert cmds.index("show ip route") < cmds.index("show clock") < cmds.index("undebug all")
    # the timeline: trigger records sit between the capture start and stop
    names = [e["event"] for e in rig.records()]
    assert names.index("capture-started") < names.index("trigger-fired") < names.index("capture-stopped")


# -- rotation ------------------------------------------------------------------------------------------------
def test_rotation_by_size(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=200)
    out = rig.capture(until={"duration": "20s", "bytes": 20_000}, rotate={"size": 2000, "interval": "1h"})
    seals = read_seals(rig.capture_dir())
    assert len(seals) >= 8 and len(out.files) == len(seals)
    assert all(s.reason == "size" for s in seals[:-1])
    assert all(2000 <= s.length < 2000 + 200 for s in seals[:-1])
    assert_contiguous(seqs(captured_lines(rig.capture_dir())))


def test_rotation_by_time(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)
    rig.capture(until={"duration": "1.3s"}, rotate={"size": "64MiB", "interval": "0.3s"})
    seals = read_seals(rig.capture_dir())
    assert len(seals) >= 4
    assert sum(1 for s in seals if s.reason == "interval") >= 3
    for s in seals:
        assert s.first_mono is not None and s.last_mono is not None
        assert s.last_mono - s.first_mono < 0.3 + 0.05
    assert_contiguous(seqs(captured_lines(rig.capture_dir())))


# -- device safety -------------------------------------------------------------------------------------------
def test_rate_guard_stops_at_once(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=3000)
    t0 = time.monotonic()
    out = rig.capture(until={"duration": "30s"}, rate_guard={"max_bytes_per_s": "20KB", "for": "0.5s"})
    assert out.status == "rate-guard" and time.monotonic() - t0 < 10
    rec = rig.records("rate-guard")[0]
    assert rec["rate"] > 20_000 and rec["limit"] == 20_000
    assert rig.events.count("debug-off") >= 1 and undebug_after_last_debug(rig.events)
    assert rig.events.commands().count("undebug all") == 1  # the stop commands ran once, not again at the end
    assert rig.records("step-completed")[-1]["status"] == "error"


def test_precheck_refuses_a_busy_device(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory()
    out = rig.capture(precheck={"command": "show processes cpu",
                                "threshold": {"regex": r"five seconds: (\d+)%", "max": 2}})
    assert out.status == "precheck-failed" and "3" in out.reason
    cmds = rig.events.commands()
    assert "show processes cpu" in cmds and not any(c.startswith(("debug", "terminal monitor")) for c in cmds)
    assert rig.records("capture-precheck")[0]["value"] == 3
    assert (rig.rundir.steps_dir / "001-ospf-precheck-show-processes-cpu.txt").exists()
    assert rig.records("step-completed")[-1]["status"] == "failed"


def test_precheck_passes(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)
    out = rig.capture(until={"duration": "0.5s"},
                      precheck={"command": "show processes cpu",
                                "threshold": {"regex": r"five seconds: (\d+)%", "max": 50}})
    assert out.status == "duration" and out.lines > 0


def test_keepalive_while_quiet(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)
    writes: list[tuple[float, bytes]] = []
    real_write = rig.transport.write

    def spy(data: bytes) -> None:
        writes.append((time.monotonic(), data))
        real_write(data)

    rig.transport.write = spy  # type: ignore[method-assign]
    out = rig.capture(start=["terminal monitor"], stop=["terminal no monitor"], until={"duration": "1.1s"},
                      keepalive="0.2s")
    empties = [t for t, d in writes if d == b"\n"]
    assert len(empties) == out.keepalives and 4 <= out.keepalives <= 6
    gaps = [b - a for a, b in zip(empties, empties[1:], strict=False)]
    assert all(g >= 0.19 for g in gaps), gaps
    assert out.lines == 0  # the prompts the keepalives produce are not captured


def test_no_keepalive_while_lines_flow(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)
    out = rig.capture(until={"duration": "1s"}, keepalive="0.3s")
    assert out.keepalives == 0 and out.lines > 20


# -- slow-line mode ------------------------------------------------------------------------------------------
def test_buffer_poll_mode(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)
    out = rig.capture(until={"duration": "1s"}, slow_line="buffer", runner_kw={"poll_interval": 0.2})
    assert out.mode == "buffer-poll"
    cmds = rig.events.commands()
    assert "terminal monitor" not in cmds  # debug is not streamed to the line
    assert cmds.count("show logging") >= 4
    enable = cmds.index("logging buffered 512000 debugging")
    assert cmds[enable - 1] == "configure terminal" and cmds[enable + 1] == "no logging console"
    assert cmds[-2:] == ["logging console", "end"] and "undebug all" in cmds[-6:]
    assert out.lines == 0  # the simulator's buffer does not change: nothing after the baseline is new
    assert rig.records("capture-mode")[0]["mode"] == "buffer-poll"
    assert rig.records("step-completed")[-1]["mode"] == "buffer-poll"


def test_auto_mode_streams_on_a_fast_link(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=20)
    out = rig.capture(until={"duration": "0.3s"})
    assert out.mode == "stream" and rig.records("capture-mode")[0]["reason"] == "not a slow line"


def test_auto_mode_on_a_slow_line(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(transport=SlowMemoryTransport, debug_rate=20)
    out = rig.capture(until={"duration": "0.3s"})  # changes not allowed: stream, and say why
    assert out.mode == "stream" and "not allowed" in rig.records("capture-mode")[0]["reason"]
    rig2 = rig_factory(transport=SlowMemoryTransport, debug_rate=20)
    out2 = rig2.capture(until={"duration": "0.3s"}, runner_kw={"slow_line_allowed": True, "poll_interval": 0.1})
    assert out2.mode == "buffer-poll" and "9600 bps" in rig2.records("capture-mode")[0]["reason"]
    assert "no logging console" in rig2.events.commands()


def test_new_log_lines_after_marker() -> None:
    old = [b"a", b"b", b"c", b"d"]
    assert new_log_lines([], old) == (old, True)
    assert new_log_lines([b"b", b"c", b"d"], old + [b"e", b"f"]) == ([b"e", b"f"], True)
    assert new_log_lines([b"b", b"c", b"d"], old) == ([], True)
    # repeated lines: the last occurrence of the marker counts
    assert new_log_lines([b"x", b"x"], [b"x", b"x", b"x", b"y"]) == ([b"y"], True)
    # the buffer wrapped: everything is new, and the caller is told
    assert new_log_lines([b"q", b"r"], [b"s", b"t"]) == ([b"s", b"t"], False)


# -- drops ---------------------------------------------------------------------------------------------------
PASSWORD = "capture-pw-4471"


def test_resume_during_capture_keeps_every_line_once(tmp_path: Path) -> None:
    events = EventLog()
    profile = DeviceProfile.load("cisco_ios", debug_rate=100)
    creds = Credentials(username="admin", password=Secret(PASSWORD), enable=Secret(ENABLE))
    options = ConnectOptions(credentials=creds, accept_new_host_key=True, known_hosts=str(tmp_path / "known_hosts"),
                             system_known_hosts=None, ssh_config=None, connect_timeout=5.0)
    with SimSSHServer(profile, users={"admin": PASSWORD}, events=events) as srv, \
            FaultProxy("127.0.0.1", srv.port) as proxy:
        rundir = RunDir.create(tmp_path / "runs", "sim", "capture")
        raw = rundir.raw_stream()
        policy = ReconnectPolicy(attempts=5, within=20, initial_wait=0.05, max_wait=0.2, jitter=0.05)
        connector = Connector(parse_target(f"ssh://admin@127.0.0.1:{proxy.port}"), options, IOS, raw,
                              policy=policy, login_timeout=10)
        session = connector.connect()
        reconnects: list[str] = []

        def reconnect(cause: str) -> Session:  # what the Runner does: reconnect, debug off, restore state
            reconnects.append(cause)
            fresh = connector.reconnect()
            fresh.run("undebug all", NullSink(), idle_timeout=5)
            return fresh

        def cut() -> None:  # once ~40 debug lines went through, cut the link
            base = proxy.bytes_down
            if proxy.wait_for(lambda p: p.bytes_down > base + 5000, timeout=10):
                proxy.cut_now()

        events.wait_count("auth-ok", 1)
        runner = make_runner(rundir, rundir.journal(), until={"duration": "2.5s"})
        threading.Timer(0.0, cut).start()
        try:
            out = runner.run(session, reconnect)
        finally:
            runner.session.close() if runner.session else None
            raw.close()
        assert out.status == "duration" and len(out.gaps) == 1 and len(reconnects) == 1
        gap_records = [e for e in read_journal(rundir.journal_path) if e["event"] == "capture-gap"]
        assert [g["phase"] for g in gap_records] == ["start", "end"]
        lines = captured_lines(rundir.captures_dir / "ospf")
        assert len(lines) == out.lines
        before, after = lines[: out.gaps[0]["lines_before"]], lines[out.gaps[0]["lines_before"]:]
        # the link may cut one line in half: that fragment is kept as it arrived, every other line is whole
        if before and not SEQ.match(before[-1]):
            before = before[:-1]
        assert_contiguous(seqs(before))
        assert after[0] == b"ip ospf adj debugging is on"
        assert all(SEQ.match(x) for x in after[1:])
        assert_contiguous(seqs(after))  # the device restarted its sequence with the new session
        assert len(before) > 20 and len(after) > 20
        seals = read_seals(rundir.captures_dir / "ospf")
        assert [s.reason for s in seals] == ["gap", "end"]
        cmds = events.commands()
        assert cmds.count("debug ip ospf adj") == 2 and undebug_after_last_debug(events)
        assert cmds[-2:] == STOP


def test_unreachable_after_a_drop_raises_for_cleanup_pending(rig_factory: Callable[..., Rig]) -> None:
    rig = rig_factory(debug_rate=50)

    def drop() -> None:
        rig.events.wait_count("debug-on", 1, timeout=10)
        rig.transport.close()

    threading.Thread(target=drop, daemon=True).start()
    with pytest.raises(ConnectionLost):
        rig.capture(until={"duration": "20s"})
    names = [e["event"] for e in rig.records()]
    assert "capture-gap" in names and "capture-stop-failed" in names and "step-interrupted" in names
    assert "debug-off" not in names and rig.rundir.state().debug_active  # resume must switch debug off
    assert read_seals(rig.capture_dir())[-1].reason == "gap"  # what arrived is sealed
