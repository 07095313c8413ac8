"""Capture soak: a long debug capture at ~1 MB/s over SSH; reports the collector side's RSS over time, peak RSS, CPU%.

The simulated router runs in its own process; the collector (CaptureRunner over a real SSH session) runs here.
Usage: python -m benchmarks.capture_soak [--minutes 2] [--rate 1.0] [--keep DIR]   (--minutes 30 for issue 6)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "soak-pw-2217"
LINE_BYTES = 95  # a simulated debug line with its CR LF


# -- device side (child process) ---------------------------------------------------------------------------------
def serve_device(lines_per_s: float, port_file: Path) -> None:
    from collector.sim.profile import DeviceProfile
    from collector.sim.ssh_server import SimSSHServer

    profile = DeviceProfile.load("cisco_ios", debug_rate=lines_per_s)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SimSSHServer(profile, users={"admin": PASSWORD}) as srv:
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(srv.port))
        tmp.rename(port_file)
        while not stop.wait(0.5):
            if os.getppid() == 1:  # the benchmark died: do not linger
                break


# -- collector side ---------------------------------------------------------------------------------------------
def rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """RSS and CPU every `every` seconds while the capture runs."""

    def __init__(self, every: float) -> None:
        super().__init__(daemon=True, name="soak-sampler")
        self.every = every
        self.samples: list[tuple[float, int, float]] = []  # (t, rss KiB, cpu seconds)
        self.done = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self.done.wait(self.every):
            t = os.times()
            self.samples.append((time.monotonic() - self.t0, rss_kib(), t.user + t.system))


def soak(minutes: float, rate_mb: float, keep: Path | None) -> dict[str, Any]:
    from collector.credentials import Credentials
    from collector.platforms import load_platform
    from collector.playbook.schema import CaptureStep
    from collector.runner.capture import CaptureRunner
    from collector.runner.connector import Connector, ReconnectPolicy
    from collector.runner.plan import PlannedStep
    from collector.secrets import Secret
    from collector.session.session import Session
    from collector.store.capture_files import read_seals
    from collector.store.rundir import RunDir
    from collector.target import parse_target
    from collector.transports.base import ConnectOptions

    work = Path(tempfile.mkdtemp(prefix="capture-soak-"))
    lines_per_s = rate_mb * 1e6 / LINE_BYTES
    port_file = work / "port"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    device = subprocess.Popen([sys.executable, "-m", "benchmarks.capture_soak", "--device", str(lines_per_s),
                               str(port_file)], cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if device.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the simulated device did not start")
            time.sleep(0.05)
        port = int(port_file.read_text())
        creds = Credentials(username="admin", password=Secret(PASSWORD), enable=Secret("enable123"))
        options = ConnectOptions(credentials=creds, accept_new_host_key=True,
                                 known_hosts=str(work / "known_hosts"), system_known_hosts=None, ssh_config=None)
        platform = load_platform("cisco_ios")
        rundir = RunDir.create(keep or (work / "runs"), "soak", "capture")
        raw = rundir.raw_stream()
        connector = Connector(parse_target(f"ssh://admin@127.0.0.1:{port}"), options, platform, raw,
                              policy=ReconnectPolicy(attempts=3, within=30, initial_wait=0.2))
        session = connector.connect()
        spec = CaptureStep.model_validate({
            "capture": "soak", "start": ["terminal monitor", "debug ip ospf adj"],
            "stop": ["undebug all", "terminal no monitor"], "until": {"duration": minutes * 60},
        })
        step = PlannedStep(index=1, name="soak", command="", kind="capture", capture=spec)

        def reconnect(cause: str) -> Session:
            return connector.reconnect()

        sampler = Sampler(every=max(1.0, minutes * 60 / 120))
        rss_start = rss_kib()
        cpu0, wall0 = os.times(), time.monotonic()
        sampler.start()
        outcome = CaptureRunner(step, platform, rundir, rundir.journal()).run(session, reconnect)
        wall = time.monotonic() - wall0
        cpu1 = os.times()
        sampler.done.set()
        sampler.join()
        session.close()
        raw.close()
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        cap = rundir.captures_dir / "soak"
        seq = re.compile(rb"^(\d{6,}): ")
        expected = 0
        skipped = 0
        for s in read_seals(cap):  # the device's sequence numbers: lines it skipped while busy show up as jumps
            with (cap / s.file).open("rb") as fh:
                for line in fh:
                    m = seq.match(line)
                    if m:
                        n = int(m.group(1))
                        if expected and n != expected:
                            skipped += n - expected
                        expected = n + 1
        last = expected - 1  # lines after the stop decision are in the raw stream only
        raw_lines = 0  # the same count in the raw stream (up to the last captured one): equal = no line lost
        tail = b""
        for chunk in sorted(rundir.raw_dir.glob("*.chunk")):
            with chunk.open("rb") as fh:
                while block := fh.read(1 << 20):
                    parts = (tail + block).split(b"\n")
                    tail = parts.pop()
                    raw_lines += sum(1 for p in parts if (m := seq.match(p)) and int(m.group(1)) <= last)
        cap_lines = 0
        for s in read_seals(cap):
            with (cap / s.file).open("rb") as fh:
                cap_lines += sum(1 for line in fh if seq.match(line))
        rss = [r for _, r, _ in sampler.samples]
        tenth = max(1, len(rss) // 10)
        index_bytes = (cap / "lines.jsonl").stat().st_size
        return {
            "minutes": minutes,
            "target_rate_MBps": rate_mb,
            "status": outcome.status,
            "captured_MB": round(outcome.bytes / 1e6, 1),
            "lines": outcome.lines,
            "rate_MBps": round(outcome.bytes / 1e6 / wall, 3),
            "raw_MB": round(raw.offset / 1e6, 1),
            "files": len(outcome.files),
            "line_index_MB": round(index_bytes / 1e6, 2),
            "device_skipped_lines": skipped,
            "debug_lines_in_raw": raw_lines,
            "debug_lines_in_capture": cap_lines,
            "cpu_percent": round(100 * cpu / wall, 1),
            "rss_start_MiB": round(rss_start / 1024, 1),
            "rss_first_10pct_max_MiB": round(max(rss[:tenth]) / 1024, 1) if rss else None,
            "rss_last_10pct_max_MiB": round(max(rss[-tenth:]) / 1024, 1) if rss else None,
            "rss_peak_MiB": round(max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, *rss]) / 1024, 1),
            "rss_samples": len(rss),
        }
    finally:
        device.terminate()
        try:
            device.wait(10)
        except subprocess.TimeoutExpired:
            device.kill()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--device"]:
        serve_device(float(args[1]), Path(args[2]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=2.0, help="capture length (issue 6 asks for 30)")
    ap.add_argument("--rate", type=float, default=1.0, help="debug stream in MB/s")
    ap.add_argument("--keep", type=Path, default=None, help="keep the run directory under this folder")
    ns = ap.parse_args(args)
    result = soak(ns.minutes, ns.rate, ns.keep)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
