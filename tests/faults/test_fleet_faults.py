"""Fleet faults: SIGKILL mid-run then `collector resume FLEET_DIR` (only what did not finish, every step once);
SIGTERM mid-run (each device cleans up: debug off); devices whose link drops mid-step (fault proxy) complete."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.sim.events import EventLog
from collector.sim.fleet import SimFleet
from collector.sim.profile import DeviceProfile
from collector.store.journal import read_journal
from tests.helpers.fleet import ENV, SIM_PASSWORD, check_device, collector, device_runs, fleet_events, write_csv
from tests.servers.fault_proxy import DOWN, FaultProxy

TECH = 3 << 20
COMMANDS = ["show version", "show running-config", "show tech-support", "show ip interface brief", "show clock"]


@pytest.fixture(scope="module")
def sims() -> Iterator[SimFleet]:
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=TECH)
    with SimFleet(10, profile, users={"admin": SIM_PASSWORD}, events=EventLog()) as fleet:
        yield fleet


def playbook(tmp: Path, debug: bool = False) -> Path:
    steps = (["debug ip ospf adj"] if debug else []) + COMMANDS
    body = "\n".join(f"  - command: {c}" for c in steps)
    path = tmp / "pb.yaml"
    path.write_text(f"name: faults\nplatform: cisco_ios\ndefaults:\n  idle_timeout: 20s\nsteps:\n{body}\n"
                    "cleanup:\n  - command: terminal no monitor\n")
    return path


def inventory(tmp: Path, sims: SimFleet, ports: list[int] | None = None) -> Path:
    rows = [{"name": n, "target": f"ssh://admin@127.0.0.1:{p}", "platform": "ios", "password_env": "SIM_PW"}
            for n, p in zip(sims.names, ports or sims.ports, strict=True)]
    return write_csv(tmp / "inv.csv", rows)


def args(tmp: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "collector", "run", str(playbook(tmp, "--debug" in extra)), "-i",
            str(tmp / "inv.csv"), "--enable-env", "SIM_EN", "--known-hosts", str(tmp / "kh"),
            "--accept-new-host-key", "--no-ssh-config", "--runs-dir", str(tmp / "runs"), "--chunk-size", "64KiB",
            "--json", *[e for e in extra if e != "--debug"]]


def wait(cond: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(cond) and cond():
            return
        time.sleep(0.005)
    raise TimeoutError("condition not met")


def fleet_dir(tmp: Path) -> Path:
    found = list((tmp / "runs").glob("fleet-*"))
    return found[0] if found else tmp / "none"


def finished_devices(tmp: Path) -> list[str]:
    path = fleet_dir(tmp) / "journal.jsonl"
    return [e["device"] for e in read_journal(path) if e["event"] == "device-finished"] if path.exists() else []


def mid_step(tmp: Path) -> bool:
    """Some device has started its show tech and not ended its run."""
    for journal in (fleet_dir(tmp) / "devices").glob("*/*/journal.jsonl"):
        events = [e["event"] for e in read_journal(journal)]
        if "step-started" in events and "run-ended" not in events:
            return True
    return False


def test_sigkill_mid_fleet_then_resume_runs_only_what_did_not_finish(sims: SimFleet, tmp_path: Path) -> None:
    inventory(tmp_path, sims)
    proc = subprocess.Popen(args(tmp_path, "--workers", "3"), env={**os.environ, **ENV},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: len(finished_devices(tmp_path)) >= 2 and mid_step(tmp_path))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    before = set(finished_devices(tmp_path))
    assert 2 <= len(before) < 10
    # the devices the kill caught with a run directory and no end: each must continue in that directory (the
    # wait above saw one mid-step; on a loaded machine it may just have ended before the kill landed)
    cut = {j.parent.parent.name for j in (fleet_dir(tmp_path) / "devices").glob("*/*/journal.jsonl")
           if "run-ended" not in [e["event"] for e in read_journal(j)]}
    fleet = fleet_dir(tmp_path)
    done = collector("resume", str(fleet), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [d["status"] for d in doc["devices"]] == ["ok"] * 10
    resumed = next(e for e in fleet_events(fleet) if e["event"] == "fleet-resumed")
    assert not set(resumed["to_run"]) & before and len(resumed["to_run"]) == 10 - len(before)
    runs = device_runs(fleet)
    continued = 0
    for name in sims.names:
        check_device(runs[name.lower()], name, TECH, COMMANDS)  # every step once, hashes equal
        events = [e["event"] for e in read_journal(runs[name.lower()] / "journal.jsonl")]
        assert events.count("run-started") == 1
        if name in before:
            assert "run-resumed" not in events  # a finished device is not touched again
        continued += "run-resumed" in events
        if name.lower() in cut:
            assert "run-resumed" in events, name  # killed mid-run: continued in its own run directory
    assert continued == len(cut)


def test_sigterm_stops_the_fleet_each_device_switches_debug_off(sims: SimFleet, tmp_path: Path) -> None:
    inventory(tmp_path, sims)
    sims.events.clear()
    proc = subprocess.Popen(args(tmp_path, "--workers", "4", "--debug"), env={**os.environ, **ENV},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        wait(lambda: mid_step(tmp_path))
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    doc = json.loads(out)
    statuses = {d["device"]: d["status"] for d in doc["devices"]}
    assert "interrupted" in statuses.values() and "not-started" in statuses.values()
    for run_dir in device_runs(fleet_dir(tmp_path)).values():
        events = [e["event"] for e in read_journal(run_dir / "journal.jsonl")]
        if "debug-on" in events:  # debug was switched on: it was switched off again before the run ended
            assert "cleanup-completed" in events and events[-1] == "run-ended", run_dir
    assert sims.events.count("debug-on") == sims.events.count("debug-off") > 0
    done = collector("resume", str(fleet_dir(tmp_path)), "--json")
    assert done.returncode == 0, done.stderr
    assert {d["status"] for d in json.loads(done.stdout)["devices"]} == {"ok"}


def test_devices_dropped_mid_step_complete_with_every_step_once(sims: SimFleet, tmp_path: Path) -> None:
    proxies = [FaultProxy("127.0.0.1", p).start() for p in sims.ports]
    try:
        for i in random.Random(14).sample(range(10), 3):
            proxies[i].cut_after_bytes(random.Random(i).randint(200_000, TECH), direction=DOWN)
        inventory(tmp_path, sims, [p.port for p in proxies])
        done = subprocess.run(args(tmp_path, "--workers", "5", "--reconnect-attempts", "5"),
                              env={**os.environ, **ENV}, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        assert sum(p.faults for p in proxies) == 3
    finally:
        for p in proxies:
            p.stop()
    runs = device_runs(fleet_dir(tmp_path))
    dropped = 0
    for name in sims.names:
        check_device(runs[name.lower()], name, TECH, COMMANDS)
        dropped += "connection-lost" in [e["event"] for e in read_journal(runs[name.lower()] / "journal.jsonl")]
    assert dropped == 3
