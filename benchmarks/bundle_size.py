"""`python -m benchmarks.bundle_size`: how many bytes a bundle carries for a big `show tech` (issue 12).

Builds a run directory through the store API (raw stream as a device sends it, step files as the runner writes
them), bundles it with the defaults and with `--include-raw`, and reports bundle bytes / compressed step bytes
(the step files gzip-compressed at the bundle's level). Budget: the default bundle is at most 1.05x.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

from collector.bundle import build_bundle
from collector.secrets import Masker
from collector.sim.showtech import show_tech
from collector.store import events as ev
from collector.store.rundir import RunDir
from collector.store.stepfile import StepFile

BUDGET = 1.05
RESULTS = Path(__file__).with_name("RESULTS-bundle-size.md")
MB = 1 << 20


def make_run(runs: Path, size: int) -> RunDir:
    """One run: `show version` and a `size`-byte `show tech-support`, CRLF on the wire, LF in the step files."""
    masker = Masker(["bench-Pa55word"])
    rd = RunDir.create(runs, "bench-rtr", "tac-baseline")
    rd.write_run_info({"run_id": "bench", "target": "ssh://admin@bench-rtr", "transport": "ssh",
                       "platform": "cisco_ios", "playbook": {"name": "tac-baseline"}, "status": "ok"})
    journal, raw = rd.journal(masker), rd.raw_stream(masker=masker)
    journal.write(ev.Connected(prompt="bench-rtr#"))
    raw.append(b"bench-rtr#")
    outputs = [("show version", [b"Cisco IOS XE Software, Version 17.9.4\n" * 30]),
               ("show tech-support", show_tech(size))]
    for n, (command, pieces) in enumerate(outputs, start=1):
        start = raw.append(command.encode() + b"\r\n")
        journal.write(ev.StepStarted(step=n, name=command, command=command, attempt=1, raw_offset=start))
        sink = StepFile(rd.step_path(f"{n:03d}-{command.replace(' ', '-')}.txt"), masker=masker)
        for piece in pieces:
            raw.append(piece.replace(b"\n", b"\r\n"))
            sink.write(piece)
        sink.finish()
        end = raw.append(b"\r\nbench-rtr#")
        journal.write(ev.StepCompleted(step=n, status="ok", name=command, command=command, attempt=1,
                                       file=f"steps/{sink.final.name}", bytes=sink.bytes, sha256=sink.sha256,
                                       raw_start=start, raw_end=end))
    raw.close()
    journal.write(ev.RunEnded(status="ok"))
    journal.close()
    return rd


def compressed_steps(rd: RunDir) -> tuple[int, int]:
    """(step bytes, gzip level 6 bytes of the step files in one stream, as the tar.gz compresses them)."""
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    plain = packed = 0
    for path in sorted(rd.steps_dir.iterdir()):
        with path.open("rb") as fh:
            while block := fh.read(MB):
                plain += len(block)
                packed += len(z.compress(block))
    return plain, packed + len(z.flush())


def measure(size_mb: int, workdir: Path) -> dict[str, float]:
    rd = make_run(workdir / "runs", size_mb * MB)
    plain, packed = compressed_steps(rd)
    raw_bytes = sum(p.stat().st_size for p in rd.raw_dir.glob("*.chunk"))
    out: dict[str, float] = {"step_bytes": plain, "compressed_step_bytes": packed, "raw_bytes": raw_bytes}
    for label, include_raw in (("default", False), ("include_raw", True)):
        t = time.perf_counter()
        res = build_bundle([rd.path], workdir / label, include_raw=include_raw)
        out[f"{label}_seconds"] = round(time.perf_counter() - t, 2)
        out[f"{label}_bytes"] = res.path.stat().st_size
        out[f"{label}_ratio"] = round(res.path.stat().st_size / packed, 4)
    return out


def report(size_mb: int, r: dict[str, float]) -> str:
    verdict = "meets" if r["default_ratio"] <= BUDGET else "MISSES"
    return "\n".join([
        f"# Bundle size: {size_mb} MiB show tech ({datetime.now(UTC):%Y-%m-%d}, `python -m benchmarks.bundle_size`)",
        "",
        f"Step files {r['step_bytes'] / MB:.1f} MiB, gzip -6 {r['compressed_step_bytes'] / MB:.2f} MiB; raw "
        f"transcript {r['raw_bytes'] / MB:.1f} MiB (CRLF, echo and prompts).",
        "",
        "| bundle | bytes | / compressed step bytes | build time |",
        "|---|---:|---:|---:|",
        f"| default (step files + metadata) | {r['default_bytes']:,.0f} | **{r['default_ratio']:.4f}** |"
        f" {r['default_seconds']:.1f} s |",
        f"| `--include-raw` | {r['include_raw_bytes']:,.0f} | {r['include_raw_ratio']:.4f} |"
        f" {r['include_raw_seconds']:.1f} s |",
        "",
        f"Budget: default <= {BUDGET}x: {verdict}.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=100, help="size of the show tech-support (MiB)")
    ap.add_argument("--write", action="store_true", help=f"write the table to {RESULTS.name}")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="collector-bundle-size-"))
    try:
        figures = measure(args.size_mb, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(args.size_mb, figures)
    print(json.dumps(figures) if args.json else text)
    if args.write:
        RESULTS.write_text(text)
        print(f"written to {RESULTS}", file=sys.stderr)
    return 0 if figures["default_ratio"] <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
