"""Step boundaries that output cannot fake, on a real OpenSSH sshd with the account's bash as the device.

A per-session random prompt ends each command: output without a final newline ends cleanly, and a line that
looks exactly like the shell's usual prompt, followed by more output after a pause, never ends a step early.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from tests.servers.sshd import SshdServer

pytestmark = pytest.mark.servers


def run(sshd: SshdServer, tmp: Path, commands: list[str]) -> RunOutcome:
    known = tmp / "known_hosts"
    known.write_text(sshd.known_hosts_line + "\n")
    creds = Credentials(username=sshd.account.name, password=Secret(sshd.account.password))
    opts = ConnectOptions(credentials=creds, known_hosts=str(known), system_known_hosts=None, ssh_config=None)
    steps = [PlannedStep(index=i, name=f"step {i}", command=c, idle_timeout=10) for i, c in enumerate(commands, 1)]
    target = parse_target(f"ssh://{sshd.account.name}@127.0.0.1:{sshd.port}")
    return Runner(steps, load_platform("linux"), target, opts, RunOptions(runs_dir=tmp / "runs"),
                  playbook_info={"name": "boundaries"}).start()


def outputs(outcome: RunOutcome) -> list[bytes]:
    out = []
    for rec in outcome.steps:
        assert rec.file is not None and rec.status == "ok", (rec.command, rec.status, rec.error_marker)
        data = (outcome.run_dir / rec.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == rec.sha256
        out.append(data)
    return out


def test_output_without_a_final_newline_ends_cleanly(sshd: SshdServer, tmp_path: Path) -> None:
    outcome = run(sshd, tmp_path, ["printf abc", "printf 'x\\ny'", "echo next"])
    assert outcome.status == "ok", outcome.error
    assert outputs(outcome) == [b"abc", b"x\ny", b"next\n"]
    assert all(not r.timed_out for r in outcome.steps)


def test_a_line_that_looks_like_the_prompt_does_not_end_the_step(sshd: SshdServer, tmp_path: Path) -> None:
    fake = f"{sshd.account.name}@{__import__('socket').gethostname()}:~$ "
    forged = [
        f"printf 'a\\n{fake}'; sleep 1; printf 'after\\n'",
        f"printf '{fake}\\n'; sleep 1; echo tail",
        "printf 'R1#'; sleep 1; echo more",
        "echo last",
    ]
    outcome = run(sshd, tmp_path, forged)
    assert outcome.status == "ok", outcome.error
    assert outputs(outcome) == [f"a\n{fake}after\n".encode(), f"{fake}\ntail\n".encode(), b"R1#more\n", b"last\n"]
