"""Dial-in recovery on shells: a large output staged in a temporary file on the host (only with allow_changes and
--allow-changes), fetched from byte offsets after each drop (overlap-checked), removed at the end or by cleanup.

Against the simulated host behind the dropping modem line, and against a real bash behind a real sshd.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from collector.runner.observer import RunObserver
from tests.faults.dialin_rig import DialinLine, events, expected, journal, linux_host, run, sent_commands, sha, step
from tests.servers.fault_proxy import DOWN, FaultProxy
from tests.servers.sshd import SshdServer

BPS, DROP_EVERY, SIZE = 230_400, 1.2, 100_000
COMMAND = f"cat /collector/blob {SIZE}"


def test_a_staged_output_longer_than_any_call_is_fetched_from_offsets(tmp_path: Path) -> None:
    host = linux_host()
    with DialinLine(host, BPS, drop_after_seconds=DROP_EVERY) as line:
        outcome = run([step(1, "uname -a"), step(2, COMMAND, may_change=True)], line.url(), tmp_path,
                      platform="linux", allow_changes=True)
        sent = sent_commands(line)
        writes, removes = line.events.events("file-write"), line.events.events("file-remove")
    assert outcome.status == "ok", outcome.error
    blob = next(r for r in outcome.steps if r.step == 2)
    assert sha((outcome.run_dir / blob.file).read_bytes()) == blob.sha256 == expected(host, COMMAND)
    assert blob.plan["strategy"] == "staged" and blob.plan["total"] == SIZE
    assert blob.assembly["drops"] >= 2 and blob.assembly["seconds"] >= 3 * DROP_EVERY
    (path,) = blob.plan["pieces"]
    assert len(writes) == 1 and writes[0]["path"] == path and removes[-1]["path"] == path
    assert host.files.files == {}  # removed at the end of the step
    fetches = [c for c in sent if c.startswith("tail -c +")]
    starts = [int(c.split()[2][1:]) for c in fetches]
    assert starts == sorted(starts) and len(set(starts)) == len(starts) and len(starts) == blob.assembly["calls"]
    # what a drop costs again: the 4 KiB overlap check plus the cut line's tail (never the whole output)
    assert blob.assembly["refetched"] <= blob.assembly["drops"] * (4096 + 1024)
    assert COMMAND not in sent  # never run whole: only through the staged file
    assert all(p.status in ("ok", "cut") for p in blob.pieces) and blob.pieces[-1].status == "ok"
    assert not (outcome.run_dir / f"{blob.file}.pieces").exists()  # the step file holds everything


def test_without_allow_changes_nothing_is_written_on_the_host(tmp_path: Path) -> None:
    host = linux_host()
    with DialinLine(host, BPS) as line:
        outcome = run([step(1, COMMAND, may_change=True)], line.url(), tmp_path, platform="linux",
                      allow_changes=False)
        sent = sent_commands(line)
    assert outcome.status == "ok", outcome.error
    (rec,) = outcome.steps
    assert rec.plan is None and rec.sha256 == expected(host, COMMAND)
    assert not line.events.events("file-write") and sent.count(COMMAND) == 1


class StopMidFetch(RunObserver):
    """Ctrl-C once the fetch of the staged file is under way (once: cleanup must get through)."""

    def __init__(self) -> None:
        self.fetching = 0

    def bytes_read(self, n: int) -> None:
        self.fetching += n
        if 40_000 < self.fetching < 10**9:
            self.fetching = 10**9
            raise KeyboardInterrupt


def test_cleanup_removes_the_staged_file_after_an_interruption(tmp_path: Path) -> None:
    host = linux_host()
    with DialinLine(host, BPS) as line:
        outcome = run([step(1, COMMAND, may_change=True)], line.url(), tmp_path, platform="linux",
                      allow_changes=True, observer=StopMidFetch())
    assert outcome.status == "interrupted"
    records = journal(outcome)
    (staged,) = events(records, "output-staged")
    assert events(records, "staged-removed", path=staged["path"]) and events(records, "cleanup-completed")
    assert host.files.files == {} and line.events.count("file-remove", path=staged["path"], existed=True) == 1


def _source(size: int) -> Path:
    rng = random.Random(7)
    path = Path(f"/tmp/collector-dialin-src-{os.getpid()}.txt")
    with path.open("w") as fh:
        written = 0
        while written < size:
            line = " ".join(f"w{rng.randrange(10**6):06d}" for _ in range(12)) + "\n"
            fh.write(line)
            written += len(line)
    path.chmod(0o644)
    return path


def test_a_real_shell_stages_after_a_drop_and_continues_from_the_offset(sshd: SshdServer, tmp_path: Path) -> None:
    """Real bash, tail, wc and rm behind a real sshd; the fault proxy cuts the whole-command attempt."""
    source = _source(3 << 20)
    try:
        with FaultProxy("127.0.0.1", sshd.port) as proxy:
            proxy.cut_after_bytes(1_200_000, DOWN)
            (tmp_path / "kh").write_text(
                sshd.known_hosts_line.replace(f"[127.0.0.1]:{sshd.port}", f"[127.0.0.1]:{proxy.port}") + "\n")
            outcome = _run_sshd(sshd, proxy.port, tmp_path, f"cat {source}")
        assert outcome.status == "ok", outcome.error
        (rec,) = outcome.steps
        assert sha((outcome.run_dir / rec.file).read_bytes()) == rec.sha256 == sha(source.read_bytes())
        assert rec.plan["strategy"] == "staged" and rec.plan["total"] == source.stat().st_size
        first = rec.pieces[0]
        assert first.offset > 500_000  # continued after the bytes the cut attempt kept (overlap-verified)
        (path,) = rec.plan["pieces"]
        assert not Path(path).exists()  # removed on the host at the end
        assert events(journal(outcome), "staged-removed", path=path)
    finally:
        source.unlink()


def _run_sshd(sshd: SshdServer, port: int, tmp: Path, command: str):  # type: ignore[no-untyped-def]
    from collector.credentials import Credentials
    from collector.platforms import load_platform
    from collector.runner.connector import ReconnectPolicy
    from collector.runner.runner import Runner, RunOptions
    from collector.secrets import Secret
    from collector.target import parse_target
    from collector.transports.base import ConnectOptions

    creds = Credentials(username=sshd.account.name, password=Secret(sshd.account.password))
    opts = ConnectOptions(credentials=creds, known_hosts=str(tmp / "kh"), system_known_hosts=None, ssh_config=None)
    ro = RunOptions(runs_dir=tmp / "runs", allow_changes=True,
                    policy=ReconnectPolicy(attempts=5, within=30, initial_wait=0.05, max_wait=0.2, jitter=0.05))
    target = parse_target(f"ssh://{sshd.account.name}@127.0.0.1:{port}")
    return Runner([step(1, command, idle_timeout=15, may_change=True)], load_platform("linux"), target, opts, ro,
                  playbook_info={"name": "staged"}).start()
