"""Slow-line benchmark: goodput at 9600 bps (via benchmarks/modem_goodput.py) and per-command overhead of a session.

The per-command part logs in to the simulated router behind the modem emulator and times short commands.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.secrets import Secret
from collector.session.session import Session
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.modem import ModemEmulator
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.store.chunks import RawStream
from collector.store.stepfile import StepFile
from collector.target import parse_target
from collector.transports.modem import ModemTransport

from .modem_goodput import measure as goodput  # noqa: F401  (re-exported: the other engineer's measurement)

FAST = "dtr_hold=0.1&guard=0.1&command_timeout=1"


@dataclass
class CommandTiming:
    command: str
    seconds: float
    wire_bytes: int  # bytes the device sent for this command: echo + output + prompt
    output_bytes: int

    def line_seconds(self, bps: int) -> float:
        """What the bytes alone cost on the line (10 bits per byte)."""
        return self.wire_bytes * 10.0 / bps

    def overhead(self, bps: int) -> float:
        return self.seconds - self.line_seconds(bps)


def per_command(bps: int = 9600, commands: int = 5, command: str = "show clock") -> list[CommandTiming]:
    """Dial, log in, run `command` `commands` times; each timed from send to prompt."""
    profile = DeviceProfile.load("cisco_ios", login=LoginDialog(mode="username-password", banner=""),
                                 show_tech_bytes=10_000)
    dev = SimDevice(profile, EventLog())
    creds = Credentials(username="admin", password=Secret("cisco123"), enable=Secret("enable123"))
    out: list[CommandTiming] = []
    with tempfile.TemporaryDirectory(prefix="bench-modem-") as tmp, \
            ModemEmulator(dev, [f"CONNECT {bps}"], line_rate_bps=bps, guard_time=0.1, events=EventLog()) as emu:
        url = f"modem://{emu.start_pty()}?number=1&baud={bps}&{FAST}"
        transport = ModemTransport(parse_target(url))
        raw = RawStream(Path(tmp) / "raw")
        with transport:
            session = Session(transport, load_platform("cisco_ios"), creds, raw)
            session.open(timeout=120.0)
            for i in range(commands):
                sink = StepFile(Path(tmp) / f"{i}.txt", masker=creds.masker)
                t0 = time.monotonic()
                result = session.run(command, sink, idle_timeout=30.0)
                elapsed = time.monotonic() - t0
                sink.finish()
                if result.timed_out:
                    raise RuntimeError(f"{command!r} timed out on the emulated line")
                out.append(CommandTiming(command, elapsed, result.raw_end - result.raw_start, sink.bytes))
        raw.close()
    return out
