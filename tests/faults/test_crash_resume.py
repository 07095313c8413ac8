"""Crash resume: SIGKILL the collector at random points (chunk writes included); `collector resume` finishes."""

from __future__ import annotations

import contextlib
import hashlib
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

from collector.sim.ssh_server import SimSSHServer
from collector.store.chunks import read_index
from collector.store.journal import read_journal
from tests.faults.harness import COMMANDS, ENABLE, PASSWORD, Harness, make_harness

SAMPLE = 3
FULL = 12


@pytest.fixture(scope="module")
def harness() -> Harness:
    return make_harness(show_tech_bytes=12 << 20)


@pytest.fixture(scope="module")
def server(harness: Harness) -> Iterator[SimSSHServer]:
    with SimSSHServer(harness.profile, users={"admin": PASSWORD}) as srv:
        yield srv


def playbook(tmp: Path) -> Path:
    pb = tmp / "crash.yaml"
    steps = "\n".join(f"  - command: {c}" for c in COMMANDS)
    pb.write_text(f"name: crash\nplatform: cisco_ios\ndefaults:\n  idle_timeout: 10s\nsteps:\n{steps}\n")
    return pb


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "collector", *args]


ENV = dict(os.environ, PW=PASSWORD, EN=ENABLE)


def common(tmp: Path) -> list[str]:
    return ["--password-env", "PW", "--enable-env", "EN", "--known-hosts", str(tmp / "kh"), "--json"]


def wait_for_connected(runs: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run_dir in runs.glob("*"):
            journal = run_dir / "journal.jsonl"
            if journal.exists() and any(e["event"] == "connected" for e in read_journal(journal)):
                return run_dir
        time.sleep(0.01)
    raise TimeoutError("the run never connected")


def raw_bytes(run_dir: Path) -> int:
    total = 0
    for chunk in (run_dir / "raw").glob("*.chunk"):
        with contextlib.suppress(FileNotFoundError):
            total += chunk.stat().st_size
    return total


def crash_and_resume(harness: Harness, server: SimSSHServer, tmp: Path, kill_at: int) -> bool:
    """Kill, resume, check; True when the kill landed before the run had finished."""
    runs = tmp / "runs"
    tmp.mkdir(parents=True, exist_ok=True)
    args = cli("run", str(playbook(tmp)), "--target", f"ssh://admin@127.0.0.1:{server.port}", "--runs-dir",
               str(runs), "--chunk-size", "64KiB", "--accept-new-host-key", *common(tmp))
    proc = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run_dir = wait_for_connected(runs)
    while raw_bytes(run_dir) < kill_at and proc.poll() is None:  # the kill point: N bytes into the stream
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    killed_mid_run = not any(e["event"] == "run-ended" for e in read_journal(run_dir / "journal.jsonl"))
    done = subprocess.run(cli("resume", str(run_dir), *common(tmp)), env=ENV, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    main = [s for s in summary["steps"] if s["kind"] != "cleanup"]
    assert [s["command"] for s in main] == COMMANDS
    for step in main:
        data = (run_dir / step["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == step["sha256"] == harness.expected[step["command"]]
    # a torn chunk is never trusted: it is kept as .partial and marked torn in the index
    for seal in read_index(run_dir / "raw"):
        blob = (run_dir / "raw" / seal.file).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == seal.sha256
        assert seal.torn == seal.file.endswith(".partial")
    assert not list((run_dir / "steps").glob("*.writing"))
    return killed_mid_run


def _sweep(harness: Harness, server: SimSSHServer, tmp: Path, n: int) -> None:
    rng = random.Random(1127)
    mid_run = sum(crash_and_resume(harness, server, tmp / f"t{trial}", rng.randint(0, 11 << 20)) for trial in range(n))
    assert mid_run >= (n + 1) // 2, f"only {mid_run} of {n} kills landed inside the run"


def test_sigkill_then_resume_sample(harness: Harness, server: SimSSHServer, tmp_path: Path) -> None:
    _sweep(harness, server, tmp_path, SAMPLE)


@pytest.mark.slow
def test_sigkill_then_resume_full(harness: Harness, server: SimSSHServer, tmp_path: Path) -> None:
    _sweep(harness, server, tmp_path, FULL)
