"""One playbook, four paths to a real host (ssh, telnet, telnet via an SSH jump, via a jump shell): same hashes.

Real OpenSSH sshd and a real telnetd on 127.0.0.1, the test account's bash as the device.
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
from collector.target import parse_jumps, parse_target
from collector.transports.base import ConnectOptions
from tests.servers.sshd import SshdServer
from tests.servers.telnetd import TelnetdServer, telnetd  # noqa: F401  (fixture)

COMMANDS = ["uname -a", "seq 1 50000", "cat /etc/os-release", "printf 'a\\tb\\n'", "ls /no/such/dir"]


def run(url: str, sshd: SshdServer, tmp: Path, *, jump: str | None = None, mode: str = "direct",
        step_mode: str = "interactive") -> RunOutcome:
    account = sshd.account
    tmp.mkdir(parents=True, exist_ok=True)
    known = tmp / "known_hosts"
    known.write_text(sshd.known_hosts_line + "\n")
    creds = Credentials(username=account.name, password=Secret(account.password))
    opts = ConnectOptions(credentials=creds, known_hosts=str(known), system_known_hosts=None, ssh_config=None,
                          jumps=parse_jumps(jump), jump_mode=mode)
    steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=15, mode=step_mode)
             for i, c in enumerate(COMMANDS, 1)]
    runner = Runner(steps, load_platform("linux"), parse_target(url), opts, RunOptions(runs_dir=tmp / "runs"),
                    playbook_info={"name": "same"})
    return runner.start()


def hashes(outcome: RunOutcome) -> dict[str, str]:
    assert outcome.status in ("ok", "completed-with-errors"), outcome.error
    out = {}
    for rec in outcome.steps:
        data = (outcome.run_dir / rec.file).read_bytes() if rec.file else b""
        assert hashlib.sha256(data).hexdigest() == rec.sha256
        out[rec.command] = rec.sha256 or ""
    return out


def test_same_hashes_over_ssh_telnet_and_jumps(sshd: SshdServer, telnetd: TelnetdServer,  # noqa: F811
                                                tmp_path: Path) -> None:
    user = sshd.account.name
    ssh_url = f"ssh://{user}@127.0.0.1:{sshd.port}"
    telnet_url = f"telnet://{user}@127.0.0.1:{telnetd.port}"
    results = {
        "ssh": hashes(run(ssh_url, sshd, tmp_path / "ssh")),
        "telnet": hashes(run(telnet_url, sshd, tmp_path / "telnet")),
        "telnet-via-jump": hashes(run(telnet_url, sshd, tmp_path / "jump", jump=ssh_url)),
        "telnet-via-jump-shell": hashes(run(telnet_url, sshd, tmp_path / "shell", jump=ssh_url, mode="shell")),
    }
    reference = results["ssh"]
    seq = "".join(f"{i}\n" for i in range(1, 50001)).encode()
    assert reference["seq 1 50000"] == hashlib.sha256(seq).hexdigest()
    assert reference["printf 'a\\tb\\n'"] == hashlib.sha256(b"a\tb\n").hexdigest()
    assert reference["cat /etc/os-release"] == hashlib.sha256(Path("/etc/os-release").read_bytes()).hexdigest()
    for name, got in results.items():
        assert got == reference, name


def test_error_marker_is_recorded_on_linux(sshd: SshdServer, tmp_path: Path) -> None:
    outcome = run(f"ssh://{sshd.account.name}@127.0.0.1:{sshd.port}", sshd, tmp_path)
    rec = next(r for r in outcome.steps if r.command == "ls /no/such/dir")
    assert rec.status == "error" and rec.error_marker == "No such file or directory"
    assert outcome.status == "completed-with-errors"


@pytest.mark.parametrize("mode", ["direct", "shell"])
def test_ssh_target_through_jump(sshd: SshdServer, tmp_path: Path, mode: str) -> None:
    url = f"ssh://{sshd.account.name}@127.0.0.1:{sshd.port}"
    if mode == "shell":  # the jump host's own ssh client checks the device key: give it the key
        home_kh = Path(sshd.account.home) / ".ssh" / "known_hosts"
        home_kh.parent.mkdir(exist_ok=True)
        home_kh.write_text(sshd.known_hosts_line + "\n")
        import os

        os.chown(home_kh.parent, sshd.account.uid, sshd.account.gid)
        os.chown(home_kh, sshd.account.uid, sshd.account.gid)
    outcome = run(url, sshd, tmp_path, jump=url, mode=mode)
    got = hashes(outcome)
    assert got["seq 1 50000"] == hashlib.sha256("".join(f"{i}\n" for i in range(1, 50001)).encode()).hexdigest()


def test_exec_mode_gives_the_same_bytes_and_exit_status(sshd: SshdServer, tmp_path: Path) -> None:
    url = f"ssh://{sshd.account.name}@127.0.0.1:{sshd.port}"
    interactive = hashes(run(url, sshd, tmp_path / "pty"))
    outcome = run(url, sshd, tmp_path / "exec", step_mode="exec")
    assert hashes(outcome) == interactive
    statuses = {r.command: (r.status, r.exit_status) for r in outcome.steps}
    assert statuses["seq 1 50000"] == ("ok", 0)
    assert statuses["ls /no/such/dir"] == ("error", 2)
