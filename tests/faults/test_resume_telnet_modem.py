"""Resume on drop over Telnet (fault proxy) and over a dial-up modem (carrier dropped mid-step)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.connector import ReconnectPolicy
from collector.runner.observer import RunObserver
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.secrets import Secret
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.modem import ModemEmulator
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.sim.telnet_server import SimTelnetServer
from collector.store.journal import read_journal
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from tests.servers.fault_proxy import DOWN, FaultProxy

COMMANDS = ["show version", "show running-config", "show tech-support", "show ip interface brief", "show clock"]
FAST = "retry_wait=0.01&retry_jitter=0&dtr_hold=0.05&guard=0.05&probe_after=0.3&command_timeout=0.5"


def profile(show_tech: int) -> DeviceProfile:
    return DeviceProfile.load("cisco_ios", login=LoginDialog(mode="username-password"), show_tech_bytes=show_tech)


def expected(p: DeviceProfile) -> dict[str, str]:
    dev = SimDevice(p)
    return {c: hashlib.sha256(b"".join(dev.expected_output(c))).hexdigest() for c in COMMANDS}


def run(url: str, tmp: Path, observer: RunObserver | None = None) -> RunOutcome:
    creds = Credentials(username="admin", password=Secret("cisco123"), enable=Secret("enable123"))
    opts = ConnectOptions(credentials=creds, ssh_config=None, system_known_hosts=None)
    steps = [PlannedStep(index=i, name=c, command=c, idle_timeout=10) for i, c in enumerate(COMMANDS, 1)]
    ro = RunOptions(runs_dir=tmp / "runs", policy=ReconnectPolicy(attempts=6, within=60, initial_wait=0.05,
                                                                   max_wait=0.2, jitter=0.05), login_timeout=20)
    return Runner(steps, load_platform("cisco_ios"), parse_target(url), opts, ro, observer,
                  playbook_info={"name": "resume"}).start()


def check(outcome: RunOutcome, want: dict[str, str]) -> list[dict[str, Any]]:
    assert outcome.status == "ok", outcome.error
    for rec in outcome.steps:
        data = (outcome.run_dir / rec.file).read_bytes() if rec.file else b""
        assert hashlib.sha256(data).hexdigest() == rec.sha256 == want[rec.command], rec.command
    assert [r.command for r in outcome.steps] == COMMANDS
    return list(read_journal(outcome.run_dir / "journal.jsonl"))


def test_telnet_random_cuts_resume(tmp_path: Path) -> None:
    p = profile(2 << 20)
    want = expected(p)
    rng = random.Random(5)
    with SimTelnetServer(p) as srv, FaultProxy("127.0.0.1", srv.port) as proxy:
        for trial in range(3):
            proxy.cut_after_bytes(rng.randint(2_000, 2 << 20), DOWN)
            outcome = run(f"telnet://admin@127.0.0.1:{proxy.port}", tmp_path / f"t{trial}")
            proxy.disarm()
            journal = check(outcome, want)
            assert sum(e["event"] == "connection-lost" for e in journal) == 1


class DisarmOnDrop(RunObserver):
    """After the first carrier loss the line is good again (the emulator drops every call otherwise)."""

    def __init__(self, emu: ModemEmulator) -> None:
        self.emu = emu

    def notice(self, message: str) -> None:
        if message.startswith("connection lost"):
            self.emu.drop_after_bytes = None


def test_modem_carrier_drop_mid_step_redials_and_resumes(tmp_path: Path) -> None:
    events = EventLog()
    p = profile(300_000)
    want = expected(p)
    emu = ModemEmulator(SimDevice(p, events), ["CONNECT 9600"], events=events, guard_time=0.05,
                        line_rate_bps=None, drop_after_bytes=150_000)
    try:
        url = f"modem://{emu.start_pty()}?number=5551234&{FAST}"
        outcome = run(url, tmp_path, DisarmOnDrop(emu))
    finally:
        emu.close()
    journal = check(outcome, want)
    assert sum(e["event"] == "connection-lost" for e in journal) == 1
    assert emu.dials == 2  # dialled again after the carrier loss
    # on a modem line the show tech goes by its sections: the cut section is fetched again, the rest never
    interrupted = [e for e in journal if e["event"] == "piece-interrupted"]
    assert interrupted and interrupted[0]["step"] == 3
