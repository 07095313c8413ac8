"""Offset resume against a real sshd: a cut mid-`cat`, continued with `tail -c +N`, overlap-verified."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.connector import ReconnectPolicy
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.store.journal import read_journal
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from tests.servers.fault_proxy import DOWN, FaultProxy
from tests.servers.sshd import SshdServer


def make_file(size: int) -> Path:
    rng = random.Random(42)
    words = [f"word{i:05d}" for i in range(4000)]
    lines = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(10)) + "\n"
        lines.append(line)
        total += len(line)
    path = Path(f"/tmp/collector-offset-{os.getpid()}.txt")
    path.write_text("".join(lines))
    path.chmod(0o644)
    return path


def run(sshd: SshdServer, port: int, tmp: Path, step: PlannedStep) -> RunOutcome:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "kh").write_text(sshd.known_hosts_line.replace(f"[127.0.0.1]:{sshd.port}", f"[127.0.0.1]:{port}") + "\n")
    creds = Credentials(username=sshd.account.name, password=Secret(sshd.account.password))
    opts = ConnectOptions(credentials=creds, known_hosts=str(tmp / "kh"), system_known_hosts=None, ssh_config=None)
    ro = RunOptions(runs_dir=tmp / "runs", policy=ReconnectPolicy(attempts=5, within=30, initial_wait=0.05,
                                                                   max_wait=0.2, jitter=0.05))
    return Runner([step], load_platform("linux"), parse_target(f"ssh://{sshd.account.name}@127.0.0.1:{port}"), opts,
                  ro, playbook_info={"name": "offset"}).start()


def test_cut_mid_output_continues_from_the_offset(sshd: SshdServer, tmp_path: Path) -> None:
    source = make_file(3 << 20)
    try:
        step = PlannedStep(index=1, name="read file", command=f"cat {source}", idle_timeout=15, resume="offset",
                           offset_command=f"tail -c +{{offset1}} {source}")
        with FaultProxy("127.0.0.1", sshd.port) as proxy:
            proxy.cut_after_bytes(1_200_000, DOWN)
            outcome = run(sshd, proxy.port, tmp_path, step)
        assert outcome.status == "ok", outcome.error
        (rec,) = outcome.steps
        data = (outcome.run_dir / rec.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest() == rec.sha256
        events = list(read_journal(outcome.run_dir / "journal.jsonl"))
        done = [e for e in events if e["event"] == "step-completed"][-1]
        # continued from what the cut attempt kept (how much of the 1.2 MB on the wire that is depends on how far
        # collector had read when the connection was cut: a loaded machine reads less), not re-run from zero
        (partial,) = (outcome.run_dir / "steps").glob("*.partial.*")
        assert done["resumed_from"] == partial.stat().st_size > 0
        started = [e for e in events if e["event"] == "step-started"]
        assert started[-1]["command"].startswith("tail -c +") and started[-1]["resume"] == "offset"
    finally:
        source.unlink()


def test_overlap_mismatch_falls_back_to_a_full_rerun(sshd: SshdServer, tmp_path: Path) -> None:
    source = make_file(2 << 20)
    try:
        # a wrong continuation command: starts at the wrong place, so the overlap cannot match
        step = PlannedStep(index=1, name="read file", command=f"cat {source}", idle_timeout=15, resume="offset",
                           offset_command=f"tail -c +1 {source} #{{offset1}}")
        with FaultProxy("127.0.0.1", sshd.port) as proxy:
            proxy.cut_after_bytes(900_000, DOWN)
            outcome = run(sshd, proxy.port, tmp_path, step)
        assert outcome.status == "ok", outcome.error
        (rec,) = outcome.steps
        assert hashlib.sha256((outcome.run_dir / rec.file).read_bytes()).digest() == \
            hashlib.sha256(source.read_bytes()).digest()
        kinds = [e["event"] for e in read_journal(outcome.run_dir / "journal.jsonl")]
        assert "offset-resume-failed" in kinds
    finally:
        source.unlink()
