"""The embedded simulator started as its own process (`python -m collector sim ssh`), as a user would.

Keeps the device's memory out of the collector process, so RSS measurements are honest.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SIM_PASSWORD = "sim-pw-5521"
SIM_ENABLE = "enable123"


@dataclass
class SimProcess:
    proc: subprocess.Popen[str]
    port: int
    fingerprint: str
    events: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def commands(self) -> list[str]:
        import json

        if not self.events.exists():
            return []
        out = []
        for line in self.events.read_text().splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("kind") == "command":
                out.append(ev.get("line") or ev.get("command") or "")
        return out


def start_sim(tmp: Path, *, port: int = 0, show_tech_mb: float = 1, host_key: Path | None = None,
              profile: str = "cisco_ios", extra: list[str] | None = None) -> SimProcess:
    events = tmp / f"sim-events-{time.monotonic_ns()}.jsonl"
    cmd = [sys.executable, "-m", "collector", "sim", "ssh", "--port", str(port), "--password-env", "SIM_PW",
           "--show-tech-mb", str(show_tech_mb), "--events", str(events), "--profile", profile]
    if host_key is not None:
        cmd += ["--host-key", str(host_key)]
    cmd += extra or []
    env = dict(os.environ, SIM_PW=SIM_PASSWORD)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    port_found = 0
    fp = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (port_found and fp):
        line = proc.stdout.readline()
        if not line:
            break
        if m := re.search(r"listening on [\d.]+:(\d+)", line):
            port_found = int(m.group(1))
        if m := re.search(r"fingerprint (SHA256:\S+)", line):
            fp = m.group(1)
    if not (port_found and fp):
        proc.kill()
        raise RuntimeError("the simulator did not start")
    return SimProcess(proc, port_found, fp, events)
