"""cmd:// against real local consoles: socat to the agetty console of the serial tests, socat to the simulator's
console, and a local bash; bad commands (missing, exiting at once, never prompting) fail cleanly and leave no process.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from collector.credentials import Credentials
from collector.errors import ConnectError, ConnectionLost, DeviceError, UsageError
from collector.platforms import load_platform
from collector.runner.connector import Connector, ReconnectPolicy
from collector.runner.observer import RunObserver
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.sim.serial_console import SimSerialConsole
from collector.store.chunks import RawStream
from collector.store.journal import read_journal
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from collector.transports.cmd import CmdTransport
from tests.integration.test_openssh_transport import descendants
from tests.servers.agetty import AgettyConsole, agetty_console

needs_socat = pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat (apt-get install socat)")
BASH = ["bash", "--norc", "--noprofile", "-i"]
HOSTILE = "printf '\\033]0;owned\\007\\033[2J\\033[31m[bold red]x[/]\\033[0m\\n'"


def cmd_url(*argv: str, **options: str) -> str:
    return "cmd://?" + urlencode([("arg", a) for a in argv] + list(options.items()))


def run(url: str, tmp: Path, commands: list[str], *, platform: str = "linux", creds: Credentials | None = None,
        observer: RunObserver | None = None, login_timeout: float = 30) -> RunOutcome:
    steps = [PlannedStep(index=i, name=c[:40], command=c, idle_timeout=15) for i, c in enumerate(commands, 1)]
    ropts = RunOptions(runs_dir=tmp / "runs", login_timeout=login_timeout,
                       policy=ReconnectPolicy(attempts=4, within=60, initial_wait=0.05, max_wait=0.3, jitter=0.05))
    return Runner(steps, load_platform(platform), parse_target(url), ConnectOptions(credentials=creds or Credentials()),
                  ropts, observer, playbook_info={"name": "cmd"}).start()


def hashes(outcome: RunOutcome) -> dict[str, str]:
    assert outcome.status == "ok", outcome.error
    return {r.command: hashlib.sha256((outcome.run_dir / r.file).read_bytes()).hexdigest() for r in outcome.steps
            if r.file}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def console() -> Iterator[AgettyConsole]:
    with agetty_console() as con:
        yield con


@needs_socat
@pytest.mark.servers
def test_socat_to_the_agetty_console_gives_the_serial_hashes(console: AgettyConsole, tmp_path: Path) -> None:
    commands = ["seq 1 3000", "uname -s", "cat /etc/os-release"]
    creds = Credentials(username=console.account.name, password=Secret(console.account.password))
    via_serial = hashes(run(f"serial://{console.path}?baud=9600", tmp_path / "serial", commands, creds=creds))
    starts = console.starts
    url = cmd_url("socat", "-,raw,echo=0", f"{console.path},raw,echo=0", line_rate="9600")
    outcome = run(url, tmp_path / "cmd", commands, creds=creds)
    assert hashes(outcome) == via_serial
    assert via_serial["seq 1 3000"] == sha("".join(f"{i}\n" for i in range(1, 3001)).encode())
    link = json.loads((outcome.run_dir / "run.json").read_text())["link"]
    assert link["transport"] == "cmd" and link["program"] == "socat" and link["ended_by"] == "collector"
    assert "exit_status" in link or "exit_signal" in link
    # line_rate declares a console line: the session logged out, so agetty served a fresh login
    assert console.starts > starts


@needs_socat
def test_socat_to_the_simulators_console(tmp_path: Path) -> None:
    profile = DeviceProfile.load("cisco_ios", login=LoginDialog(mode="username-password", press_return=True),
                                 show_tech_bytes=300_000)
    commands = ["show version", "show running-config", "show tech-support"]
    creds = Credentials(username="admin", password=Secret("cisco123"), enable=Secret("enable123"))
    with SimSerialConsole(profile, EventLog()) as con:
        # plain `socat -` leaves its terminal as it is: tty=raw gives it a raw one (bytes pass unchanged)
        outcome = run(cmd_url("socat", "-", f"{con.path},raw,echo=0", tty="raw"), tmp_path, commands,
                      platform="cisco_ios", creds=creds)
    got = hashes(outcome)
    dev = SimDevice(profile)
    for command in commands:
        assert got[command] == sha(b"".join(dev.expected_output(command))), command


def test_local_shell_hostile_output_is_data_and_the_exit_is_recorded(tmp_path: Path) -> None:
    # the shell waits for a line before it shows a prompt: only the session's wake-up Return gets it going
    url = cmd_url("sh", "-c", "read wake; exec " + " ".join(BASH))
    outcome = run(url, tmp_path, [HOSTILE, "seq 1 2000"])
    got = hashes(outcome)
    assert got[HOSTILE] == sha(b"[bold red]x[/]\n")
    assert got["seq 1 2000"] == sha("".join(f"{i}\n" for i in range(1, 2001)).encode())
    raw = b"".join(p.read_bytes() for p in sorted((outcome.run_dir / "raw").glob("*.chunk")))
    assert b"\x1b]0;owned\x07\x1b[2J\x1b[31m[bold red]x[/]\x1b[0m\r\n" in raw  # as the terminal gave them
    info = json.loads((outcome.run_dir / "run.json").read_text())
    assert parse_target(info["target_url"]) == parse_target(url)  # `collector resume` starts the same argv
    assert info["link"]["ended_by"] == "collector" and info["link"]["program"] == "sh"


class KillOnce(RunObserver):
    def __init__(self, after: int) -> None:
        self.after, self.seen, self.fired = after, 0, False

    def bytes_read(self, n: int) -> None:
        self.seen += n
        if not self.fired and self.seen > self.after:
            self.fired = True
            pids = descendants(os.getpid(), "bash")
            assert len(pids) == 1, pids
            os.kill(pids[0], signal.SIGKILL)


def test_the_program_dying_mid_step_is_a_drop_the_runner_recovers(tmp_path: Path) -> None:
    observer = KillOnce(200_000)
    outcome = run(cmd_url(*BASH), tmp_path, ["echo one", "seq 1 300000", "echo two"], observer=observer)
    assert observer.fired
    got = hashes(outcome)
    assert got["seq 1 300000"] == sha("".join(f"{i}\n" for i in range(1, 300001)).encode())
    events = [e["event"] for e in read_journal(outcome.run_dir / "journal.jsonl")]
    assert events.count("connection-lost") == 1 and events.count("reconnected") == 1
    assert descendants(os.getpid(), "bash") == []


def connect(url: str, tmp: Path, login_timeout: float = 10) -> object:
    connector = Connector(parse_target(url), ConnectOptions(), load_platform("linux"), RawStream(tmp / "raw"),
                          login_timeout=login_timeout, policy=ReconnectPolicy(attempts=1))
    return connector.connect()


def test_a_program_that_exits_at_once_names_its_status_and_last_line(tmp_path: Path) -> None:
    url = cmd_url("sh", "-c", "echo starting; printf '\\033[31m[bold red]no console[/]\\033[0m\\n'; exit 3")
    with pytest.raises(ConnectError) as err:
        connect(url, tmp_path)
    message = err.value.message
    assert err.value.exit_code == 10 and "exited at once (exit status 3" in message
    assert '"[bold red]no console[/]"' in message and "\x1b" not in message and "\n" not in message
    # the CLI prints it as text: the device's markup is not interpreted
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: cmd-cli\nplatform: linux\nsteps:\n  - command: uname -s\n")
    done = subprocess.run([sys.executable, "-m", "collector", "run", str(pb), "--target", url, "--runs-dir",
                           str(tmp_path / "runs"), "--json"], capture_output=True, text=True, timeout=120, check=False)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 10 and len(errors) == 1 and "[bold red]no console[/]" in errors[0]


def test_a_program_that_never_prompts_times_out_and_is_reaped(tmp_path: Path) -> None:
    with pytest.raises(DeviceError) as err:
        connect(cmd_url("sleep", "6017"), tmp_path, login_timeout=3)
    assert err.value.exit_code == 17 and "no CLI prompt within 3s" in err.value.message
    assert descendants(os.getpid(), "sleep") == []
    zombies = [p for p in os.listdir("/proc") if p.isdigit() and _zombie_child(int(p))]
    assert zombies == []


def _zombie_child(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    rest = stat[stat.rindex(")") + 2 :].split()
    return rest[0] == "Z" and int(rest[1]) == os.getpid()


def test_a_missing_program_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        connect(cmd_url("no-such-console-program-1f3"), tmp_path)
    assert "not an executable program" in err.value.message


def test_an_exit_after_we_spoke_is_a_drop_with_its_status(tmp_path: Path) -> None:
    t = CmdTransport(parse_target(cmd_url("sh", "-c", "read x; echo bye-$x; exit 7", tty="raw")), ConnectOptions())
    t.open()
    try:
        t.write(b"now\n")
        seen = b""
        with pytest.raises(ConnectionLost) as err:
            for _ in range(100):
                seen += t.read(0.1)
    finally:
        t.close()
    assert seen == b"bye-now\n"
    assert "exit status 7" in err.value.message and '"bye-now"' in err.value.message
    assert t.info["exit_status"] == 7 and t.info["ended_by"] == "itself"
