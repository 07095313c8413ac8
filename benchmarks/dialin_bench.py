"""Benchmark: dial-in recovery when no call outlasts the longest step (issue 18's figures).

A `show tech-support` of --size bytes over an emulated modem line at --bps whose carrier drops every N seconds of
each call (--drops, one run per value), with --dial-delay seconds from ATD to CONNECT. Reports the wall time next
to the ideal (the bytes at the line rate, plus dial and login for every call the run needed), calls, drops, redial
waits, bytes fetched twice, what learning the section list cost, and the effective goodput.

Run: .venv/bin/python -m benchmarks.dialin_bench [--bps 9600] [--size 300000] [--drops 120,60] [--dial-delay 5]
     .venv/bin/python -m benchmarks.dialin_bench --quick     (10x the rate, 1/10 the drop interval: about 2 minutes)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions
from collector.secrets import Secret
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.modem import ModemEmulator
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.target import parse_target
from collector.transports.base import ConnectOptions


def one_run(size: int, bps: int, drop_every: float, dial_delay: float, redials: int) -> dict[str, Any]:
    events = EventLog()
    profile = DeviceProfile.load("cisco_ios", login=LoginDialog(mode="username-password", banner=""),
                                 show_tech_bytes=size)
    device = SimDevice(profile, events)
    whole = b"".join(device.expected_output("show tech-support"))
    creds = Credentials(username="admin", password=Secret("cisco123"), enable=Secret("enable123"))
    step = PlannedStep(index=1, name="show tech-support", command="show tech-support", idle_timeout=120.0)
    with tempfile.TemporaryDirectory(prefix="bench-dialin-") as tmp, \
            ModemEmulator(device, [f"CONNECT {bps}"], events=events, line_rate_bps=bps,
                          drop_after_seconds=drop_every, dial_delay=dial_delay) as emu:
        url = f"modem://{emu.start_pty()}?number=5551234&baud={bps}&redials={redials}"
        started = time.monotonic()
        outcome = Runner([step], load_platform("cisco_ios"), parse_target(url), ConnectOptions(credentials=creds),
                         RunOptions(runs_dir=Path(tmp)), playbook_info={"name": "dialin-bench"}).start()
        wall = time.monotonic() - started
        if outcome.status != "ok":
            raise SystemExit(f"run ended {outcome.status}: {outcome.error}")
        (rec,) = outcome.steps
        data = (outcome.run_dir / str(rec.file)).read_bytes()
        if hashlib.sha256(data).digest() != hashlib.sha256(whole).digest():
            raise SystemExit("the assembled show tech differs from the device's")
        assembly, plan = dict(rec.assembly or {}), dict(rec.plan or {})
        connected = events.events("modem-connect")
        first_ready = _first_ready(outcome.run_dir)
        detect = _detection(outcome.run_dir, events)
    line_rate = bps / 10.0
    wire = len(whole) + whole.count(b"\n")  # the device sends CR LF
    calls = int(assembly["calls"])
    per_call = (first_ready + float(assembly["redial_seconds"])) / calls  # dial + login, measured per call
    ideal = wire / line_rate + calls * per_call
    return {
        "size": len(whole), "bps": bps, "drop_every_s": drop_every, "dial_delay_s": dial_delay,
        "wall_s": round(wall, 1), "step_s": assembly["seconds"], "ideal_s": round(ideal, 1),
        "wall_vs_ideal": round(wall / ideal, 3), "line_only_s": round(wire / line_rate, 1),
        "calls": calls, "drops": assembly["drops"], "dials": len(connected),
        "dial_and_login_per_call_s": round(per_call, 2), "redial_wait_s": assembly["redial_seconds"],
        "drop_detection_s": round(detect, 2),
        "sections": len(plan.get("pieces", [])), "list_bytes": plan.get("list_bytes"),
        "list_s": plan.get("list_seconds"), "refetched_bytes": assembly["refetched"],
        "goodput_Bps": assembly["goodput"], "goodput_pct_of_line": round(100 * assembly["goodput"] / line_rate, 1),
        "whole_rerun_possible": (drop_every - per_call) * line_rate >= wire,
    }


def _records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]


def _first_ready(run_dir: Path) -> float:
    """Seconds from the start of the run to the first ready prompt (the first call's dial and login)."""
    records = _records(run_dir)
    t0 = next(r["mono"] for r in records if r["event"] == "run-started")
    return float(next(r["mono"] for r in records if r["event"] == "connected") - t0)


def _detection(run_dir: Path, events: EventLog) -> float:
    """Mean seconds from the emulator dropping the carrier to the collector knowing (a pty has no DCD: NO CARRIER
    text, then an AT probe after probe_after)."""
    drops = [e["t"] for e in events.events("modem-carrier-drop")]
    lost = [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp() for r in _records(run_dir)
            if r["event"] == "connection-lost"]
    pairs = list(zip(drops, lost, strict=False))
    return sum(b - a for a, b in pairs) / len(pairs) if pairs else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bps", type=int, default=9600)
    ap.add_argument("--size", type=int, default=300_000)
    ap.add_argument("--drops", default="120,60", help="seconds into each call when its carrier drops")
    ap.add_argument("--dial-delay", type=float, default=5.0, help="seconds from ATD to CONNECT (ring + training)")
    ap.add_argument("--redials", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="10x the rate and 1/10 the drop interval and dial delay")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    scale = 10 if a.quick else 1
    rows = [one_run(a.size, a.bps * scale, float(d) / scale, a.dial_delay / scale, a.redials)
            for d in a.drops.split(",")]
    if a.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        print(f"{r['size']:,} B show tech at {r['bps']} bps, carrier drop every {r['drop_every_s']:g} s "
              f"(dial {r['dial_delay_s']:g} s): completed in {r['wall_s']:.0f} s; ideal {r['ideal_s']:.0f} s "
              f"({r['line_only_s']:.0f} s on the line + {r['calls']} calls x {r['dial_and_login_per_call_s']:.1f} s "
              f"dial and login) -> {r['wall_vs_ideal']:.2f}x ideal")
        print(f"    {r['calls']} calls, {r['drops']} drops (each seen {r['drop_detection_s']:.1f} s after it "
              f"happened), redial waits {r['redial_wait_s']:.1f} s, "
              f"{r['refetched_bytes']:,} B fetched twice, {r['sections']} sections, section list "
              f"{r['list_bytes']:,} B in {r['list_s']:.1f} s, goodput {r['goodput_Bps']:.0f} B/s "
              f"({r['goodput_pct_of_line']:.0f} % of the line); a whole re-run "
              f"{'could' if r['whole_rerun_possible'] else 'could never'} complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
