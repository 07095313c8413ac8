"""A playbook over a real serial console (agetty + login on a pty) and over RFC 2217 (ser2net): same hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from tests.servers.agetty import AgettyConsole, agetty_console
from tests.servers.ser2net import ser2net_rfc2217

COMMANDS = ["seq 1 3000", "uname -s", "cat /etc/os-release"]


@pytest.fixture
def console() -> Iterator[AgettyConsole]:
    with agetty_console() as con:
        yield con


def run(url: str, console: AgettyConsole, tmp: Path) -> RunOutcome:
    creds = Credentials(username=console.account.name, password=Secret(console.account.password))
    steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=15) for i, c in enumerate(COMMANDS, 1)]
    return Runner(steps, load_platform("linux"), parse_target(url), ConnectOptions(credentials=creds),
                  RunOptions(runs_dir=tmp / "runs", login_timeout=30), playbook_info={"name": "serial"}).start()


def hashes(outcome: RunOutcome) -> dict[str, str]:
    assert outcome.status == "ok", outcome.error
    return {r.command: hashlib.sha256((outcome.run_dir / r.file).read_bytes()).hexdigest() for r in outcome.steps
            if r.file}


@pytest.mark.servers
def test_playbook_over_serial_and_rfc2217_gives_identical_hashes(console: AgettyConsole, tmp_path: Path) -> None:
    via_serial = hashes(run(f"serial://{console.path}?baud=9600", console, tmp_path / "serial"))
    with ser2net_rfc2217(console.path) as s2n:
        via_rfc2217 = hashes(run(s2n.url, console, tmp_path / "rfc2217"))
    assert via_serial == via_rfc2217
    seq = "".join(f"{i}\n" for i in range(1, 3001)).encode()
    assert via_serial["seq 1 3000"] == hashlib.sha256(seq).hexdigest()
    assert via_serial["cat /etc/os-release"] == hashlib.sha256(Path("/etc/os-release").read_bytes()).hexdigest()
    assert console.starts >= 2  # we logged out at the end of the first run: a fresh agetty served the second
