"""Whole runs over openssh://: the same step SHA-256s as the paramiko ssh:// transport (interactive and exec),
resume after ssh is killed or the link drops, every process reaped, and the CLI's exit codes and one-line errors.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.connector import ReconnectPolicy
from collector.runner.observer import RunObserver
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.store.journal import read_journal
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from tests.integration.test_openssh_transport import descendants, encrypted_key
from tests.servers.fault_proxy import DOWN, FaultProxy
from tests.servers.sshd import SshdServer, keygen, openssh_client_config

pytestmark = [pytest.mark.servers,
              pytest.mark.skipif(shutil.which("ssh") is None or shutil.which("socat") is None,
                                 reason="needs the OpenSSH client and socat (apt-get install openssh-client socat)")]

HOSTILE = "printf '\\033]0;owned\\007\\033[2J\\033[31m[bold red]x[/]\\033[0m\\n'"
COMMANDS = ["uname -a", "seq 1 50000", "cat /etc/os-release", "printf 'a\\tb\\n'", "ls /no/such/dir", HOSTILE]
SEQ = "".join(f"{i}\n" for i in range(1, 50001)).encode()


def run(url: str, sshd: SshdServer, tmp: Path, *, step_mode: str = "interactive", commands: list[str] = COMMANDS,
        observer: RunObserver | None = None, cleanup: list[str] | None = None) -> RunOutcome:
    tmp.mkdir(parents=True, exist_ok=True)
    known = tmp / "known_hosts"
    known.write_text(sshd.known_hosts_line)
    creds = Credentials(username=sshd.account.name, password=Secret(sshd.account.password))
    opts = ConnectOptions(credentials=creds, known_hosts=str(known), system_known_hosts=None, ssh_config=None)
    steps = [PlannedStep(index=i, name=c[:40], command=c, idle_timeout=15, mode=step_mode)  # type: ignore[arg-type]
             for i, c in enumerate(commands, 1)]
    steps += [PlannedStep(index=len(steps) + j, name=c, command=c, kind="cleanup", idle_timeout=15)
              for j, c in enumerate(cleanup or [], 1)]
    ropts = RunOptions(runs_dir=tmp / "runs", login_timeout=30,
                       policy=ReconnectPolicy(attempts=4, within=60, initial_wait=0.05, max_wait=0.3, jitter=0.05))
    return Runner(steps, load_platform("linux"), parse_target(url), opts, ropts, observer,
                  playbook_info={"name": "openssh"}).start()


def hashes(outcome: RunOutcome) -> dict[str, str]:
    assert outcome.status in ("ok", "completed-with-errors"), outcome.error
    out = {}
    for rec in outcome.steps:
        data = (outcome.run_dir / rec.file).read_bytes() if rec.file else b""
        assert hashlib.sha256(data).hexdigest() == rec.sha256
        out[rec.command] = rec.sha256 or ""
    return out


def raw_bytes(outcome: RunOutcome) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((outcome.run_dir / "raw").glob("*.chunk")))


def test_same_step_hashes_as_paramiko_interactive_and_exec(sshd: SshdServer, tmp_path: Path) -> None:
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config")
    paramiko_pty = hashes(run(f"ssh://{sshd.account.name}@127.0.0.1:{sshd.port}", sshd, tmp_path / "paramiko"))
    openssh = run(f"openssh://dev?config={cfg}", sshd, tmp_path / "openssh")
    assert hashes(openssh) == paramiko_pty
    assert paramiko_pty["seq 1 50000"] == hashlib.sha256(SEQ).hexdigest()
    # hostile output is data: stored byte for byte, shown without its escape sequences, markup left as text
    assert b"\x1b]0;owned\x07\x1b[2J\x1b[31m[bold red]x[/]\x1b[0m\r\n" in raw_bytes(openssh)
    assert paramiko_pty[HOSTILE] == hashlib.sha256(b"[bold red]x[/]\n").hexdigest()
    link = json.loads((openssh.run_dir / "run.json").read_text())["link"]
    assert link["transport"] == "openssh" and link["proxy"] == "ProxyCommand" and link["ended_by"] == "collector"
    paramiko_exec = hashes(run(f"ssh://{sshd.account.name}@127.0.0.1:{sshd.port}", sshd, tmp_path / "pexec",
                               step_mode="exec"))
    exec_run = run(f"openssh://dev?config={cfg}", sshd, tmp_path / "exec", step_mode="exec")
    assert hashes(exec_run) == paramiko_exec
    assert paramiko_exec["seq 1 50000"] == paramiko_pty["seq 1 50000"]
    # exec mode keeps exact bytes (no pty, no normalising): the escape sequences are in the step file
    exact = b"\x1b]0;owned\x07\x1b[2J\x1b[31m[bold red]x[/]\x1b[0m\n"
    assert paramiko_exec[HOSTILE] == hashlib.sha256(exact).hexdigest()
    statuses = {r.command: (r.status, r.exit_status) for r in exec_run.steps}
    assert statuses["seq 1 50000"] == ("ok", 0) and statuses["ls /no/such/dir"] == ("error", 2)
    assert sshd.count("Accepted password") >= 3
    assert descendants(os.getpid(), "ssh") == [] and descendants(os.getpid(), "socat") == []


def test_exec_steps_join_the_sessions_connection(sshd: SshdServer, tmp_path: Path) -> None:
    """Exec mode rides the interactive session's connection (our own ControlMaster): no second login."""
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config", proxy_command=False)
    before = sshd.count("Accepted password")
    outcome = run(f"openssh://dev?config={cfg}", sshd, tmp_path, step_mode="exec",
                  commands=["seq 1 50000", "sh -c 'exit 255'", "printf x; exit 7"])
    assert sshd.count("Accepted password") == before + 1
    got = {r.command: r.exit_status for r in outcome.steps}
    assert got == {"seq 1 50000": 0, "sh -c 'exit 255'": 255, "printf x; exit 7": 7}


class KillMidStep(RunObserver):
    """Once `after` bytes came in, calls `kill` once (inside the long step, on the first connection)."""

    def __init__(self, after: int, kill: Any) -> None:
        self.after, self.kill, self.seen, self.fired = after, kill, 0, False

    def bytes_read(self, n: int) -> None:
        self.seen += n
        if not self.fired and self.seen > self.after:
            self.fired = True
            self.kill()


def kill_ssh() -> None:
    pids = descendants(os.getpid(), "ssh")
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)


@pytest.mark.parametrize("how", ["ssh-killed", "link-cut"])
def test_resume_after_ssh_dies_or_the_link_drops(sshd: SshdServer, tmp_path: Path, how: str) -> None:
    commands = ["echo before", "seq 1 400000", "echo after"]
    with FaultProxy("127.0.0.1", sshd.port).start() as proxy:
        cfg = openssh_client_config(sshd, tmp_path / "ssh_config", via_port=proxy.port)
        if how == "ssh-killed":
            observer = KillMidStep(300_000, kill_ssh)
        else:
            observer = KillMidStep(300_000, lambda: proxy.cut_after_bytes(1, DOWN))
        outcome = run(f"openssh://dev?config={cfg}", sshd, tmp_path, commands=commands, observer=observer,
                      cleanup=["echo cleanup-$((40+2))"])
    assert observer.fired and outcome.status == "ok", outcome.error
    got = hashes(outcome)
    assert got["seq 1 400000"] == hashlib.sha256("".join(f"{i}\n" for i in range(1, 400001)).encode()).hexdigest()
    events = [e["event"] for e in read_journal(outcome.run_dir / "journal.jsonl")]
    assert events.count("connection-lost") == 1 and events.count("reconnected") == 1
    assert events.count("cleanup-completed") == 1  # the cleanup guarantee holds on the new connection
    assert b"cleanup-42" in b"".join(p.read_bytes() for p in sorted((outcome.run_dir / "raw").glob("*.chunk")))
    assert sshd.count("Accepted password") >= 2  # a new ssh, a new login
    assert descendants(os.getpid(), "ssh") == []


def collector(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), timeout=120, check=False)


def playbook(tmp: Path) -> Path:
    path = tmp / "pb.yaml"
    path.write_text("name: openssh-cli\nplatform: linux\nsteps:\n  - command: uname -s\n")
    return path


def test_cli_exit_codes_for_host_keys_and_a_missing_ssh(sshd: SshdServer, tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config", known_hosts=kh)
    other = keygen(tmp_path / "impostor")
    kh.write_text(f"[127.0.0.1]:{sshd.port} {other.get_name()} {other.get_base64()}\n")
    args = ["run", str(playbook(tmp_path)), "--target", f"openssh://dev?config={cfg}", "--password-env", "OSSH_PW",
            "--runs-dir", str(tmp_path / "runs"), "--json"]
    env = {"OSSH_PW": sshd.account.password}
    done = collector(*args, env=env)
    assert done.returncode == 12, done.stderr
    assert "host key" in done.stderr and "Traceback" not in done.stderr
    kh.write_text("")
    assert collector(*args, env=env).returncode == 11
    kh.write_text(sshd.known_hosts_line)
    ok = collector(*args, env=env)
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)
    assert (Path(summary["run_dir"]) / summary["steps"][0]["file"]).read_text() == "Linux\n"
    missing = collector(*args, env={**env, "PATH": str(tmp_path)})
    errors = [line for line in missing.stderr.splitlines() if line.startswith("error:")]
    assert missing.returncode == 2 and len(errors) == 1 and "`ssh` is not installed" in errors[0]
    assert "Traceback" not in missing.stderr


def test_cli_answers_a_key_passphrase_from_the_environment(sshd: SshdServer, tmp_path: Path) -> None:
    key = tmp_path / "pp_key"
    sshd.authorize(encrypted_key(key, "cli-phrase-93"))
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config", identity=key)
    args = ["run", str(playbook(tmp_path)), "--target", f"openssh://dev?config={cfg}", "--key-passphrase-env",
            "OSSH_PP", "--runs-dir", str(tmp_path / "runs"), "--json"]
    done = collector(*args, env={"OSSH_PP": "cli-phrase-93"})
    assert done.returncode == 0, done.stderr
    run_dir = Path(json.loads(done.stdout)["run_dir"])
    assert b"cli-phrase-93" not in b"".join(p.read_bytes() for p in run_dir.rglob("*") if p.is_file())
    assert collector(*args).returncode == 2  # the variable is not set: a usage error, before connecting
