"""Benchmark: goodput of one step over an emulated dial-up line, as % of the line's payload rate (bps / 10).

Run: .venv/bin/python benchmarks/modem_goodput.py [--bytes 65536] [--bps 9600] [--via pty|fakemodem]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

from collector.sim.events import EventLog
from collector.sim.modem import ModemEmulator
from collector.target import parse_target
from collector.transports.modem import ModemTransport

FAST = "dtr_hold=0.1&guard=0.1&command_timeout=1"


class BlobDevice:
    """Sends `size` deterministic bytes after the first CR, like one long `show` step."""

    def __init__(self, size: int) -> None:
        seed = hashlib.sha256(b"goodput").digest()
        self.data = (seed * (size // len(seed) + 1))[:size]

    def serve(self, chan) -> None:  # type: ignore[no-untyped-def]
        while b"\r" not in chan.recv(64):
            pass
        chan.sendall(self.data)
        while chan.recv(64):
            pass


def measure(size: int, bps: int, via: str) -> dict[str, float]:
    dev = BlobDevice(size)
    with ModemEmulator(dev, [f"CONNECT {bps}"], line_rate_bps=bps, guard_time=0.1, events=EventLog()) as emu:
        if via == "pty":
            url = f"modem://{emu.start_pty()}?number=1&baud={bps}&{FAST}"
        else:
            url = f"modem:///dev/ttyS0?number=1&baud={bps}&port={emu.register()}&{FAST}"
        t = ModemTransport(parse_target(url))
        with t:
            t.write(b"\r")
            got = bytearray()
            started = time.monotonic()
            while len(got) < size:
                got += t.read(5.0)
            elapsed = time.monotonic() - started
    if hashlib.sha256(got).digest() != hashlib.sha256(dev.data).digest():
        raise SystemExit("data mismatch: the benchmark lost or changed bytes")
    line_bytes_per_s = bps / 10.0
    rate = size / elapsed
    return {"bytes": size, "seconds": elapsed, "bytes_per_s": rate, "goodput_pct": 100.0 * rate / line_bytes_per_s}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bytes", type=int, default=64 * 1024)
    ap.add_argument("--bps", type=int, default=9600)
    ap.add_argument("--via", choices=("pty", "fakemodem"), default="pty")
    args = ap.parse_args(argv)
    r = measure(args.bytes, args.bps, args.via)
    print(
        f"modem goodput via {args.via}: {r['bytes']} B at {args.bps} bps in {r['seconds']:.2f} s = "
        f"{r['bytes_per_s']:.1f} B/s = {r['goodput_pct']:.1f} % of the {args.bps / 10:.0f} B/s line rate"
    )
    return 0 if r["goodput_pct"] >= 95.0 else 1


if __name__ == "__main__":
    sys.exit(main())
