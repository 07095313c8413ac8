"""`python -m benchmarks.parse_bench`: parse time and memory for a `show ip bgp`-sized output (issue 16).

Builds a run directory through the store API with one generated IOS `show ip bgp` step (35 MiB by default, about
410,000 paths), parses it with `collector.parse.run.parse_run` (ntc-templates, TextFSM, block by block), bundles
it (records cleaned value by value) and reports seconds, MiB/s, records and peak RSS; also the size-limit skip.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collector.parse.run import StepChoice, parse_run
from collector.store import events as ev
from collector.store.rundir import RunDir
from collector.store.stepfile import StepFile

MB = 1 << 20
RESULTS = Path(__file__).with_name("RESULTS-parse.md")
HEADER = """BGP table version is 4410731, local router ID is 10.0.0.1
Status codes: s suppressed, d damped, h history, * valid, > best, i - internal,
              r RIB-failure, S Stale, m multipath, b backup-path, f RT-Filter,
              x best-external, a additional-path, c RIB-compressed,
Origin codes: i - IGP, e - EGP, ? - incomplete
RPKI validation codes: V valid, I invalid, N Not found

     Network          Next Hop            Metric LocPrf Weight Path
"""


def bgp_lines(size: int, seed: int = 1) -> Iterator[str]:
    """Lines of an IOS `show ip bgp` table (fixed columns, 1-3 paths per prefix) of about `size` characters."""
    r = random.Random(seed)
    yield HEADER
    total = len(HEADER)
    while total < size:
        net = f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.0/{r.choice((16, 20, 22, 24))}"
        for p in range(r.randint(1, 3)):
            hop = f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
            path = " ".join(str(r.randint(1, 65000)) for _ in range(r.randint(1, 6)))
            status = "*>" if p == 0 else "* "
            metric = r.choice(("0", "", "100"))
            line = f" {status}  {net if p == 0 else '':<16} {hop:<15} {metric:>10} {'':>6} {'0':>6} {path} i\n"
            total += len(line)
            yield line


def bgp_table(size: int, seed: int = 1) -> str:
    return "".join(bgp_lines(size, seed))


def make_run(runs: Path, size: int) -> RunDir:
    rd = RunDir.create(runs, "bench-rtr", "bgp")
    rd.write_run_info({"run_id": "bench", "target": "ssh://admin@bench-rtr", "transport": "ssh",
                       "platform": "cisco_ios", "playbook": {"name": "bgp"}, "status": "ok"})
    journal = rd.journal()
    journal.write(ev.StepStarted(step=1, name="sh ip bgp", command="sh ip bgp", attempt=1, raw_offset=0))
    sink = StepFile(rd.step_path("001-sh-ip-bgp.txt"), masker=journal.masker)
    buf: list[str] = []
    for line in bgp_lines(size):
        buf.append(line)
        if len(buf) >= 4096:
            sink.write("".join(buf).encode())
            buf.clear()
    sink.write("".join(buf).encode())
    sink.finish()
    journal.write(ev.StepCompleted(step=1, status="ok", attempt=1, name="sh ip bgp", command="sh ip bgp",
                                   file="steps/001-sh-ip-bgp.txt", raw_start=0, raw_end=0, bytes=sink.bytes,
                                   sha256=sink.sha256))
    journal.write(ev.RunEnded(status="ok"))
    journal.close()
    return rd


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(size: int, work: Path, bundle: bool = True) -> dict[str, Any]:
    rd = make_run(work / "runs", size)
    step_bytes = (rd.steps_dir / "001-sh-ip-bgp.txt").stat().st_size
    rss0 = _rss_mib()
    t0 = time.perf_counter()
    report = parse_run(rd.path)
    seconds = time.perf_counter() - t0
    (outcome,) = report.outcomes
    assert outcome.ok, outcome.reason
    parsed = rd.path / str(outcome.file)
    out: dict[str, Any] = {
        "step_bytes": step_bytes, "records": outcome.records, "template": outcome.template,
        "parse_seconds": round(seconds, 2), "mib_per_s": round(step_bytes / MB / seconds, 2),
        "parsed_json_bytes": parsed.stat().st_size, "rss_before_mib": round(rss0, 1),
        "rss_peak_mib": round(_rss_mib(), 1),
    }
    t0 = time.perf_counter()
    skipped = parse_run(rd.path, override=StepChoice("auto", step_bytes // 2))
    out["skip_seconds"] = round(time.perf_counter() - t0, 3)
    out["skip_reason"] = skipped.outcomes[0].reason
    if bundle:
        assert parse_run(rd.path, override=StepChoice()).parsed == 1  # the limited parse above was recorded
        (rd.path / "parsed").rename(work / "parsed-aside")  # the same run unparsed: the text's own cost
        out["bundle_text_only_seconds"] = _bundle(rd, work, anonymize=False)
        (work / "parsed-aside").rename(rd.path / "parsed")
        out["bundle_seconds"] = _bundle(rd, work, anonymize=False)
        out["bundle_anonymized_seconds"] = _bundle(rd, work, anonymize=True)
        out["rss_peak_after_bundle_mib"] = round(_rss_mib(), 1)
    return out


def _bundle(rd: RunDir, work: Path, anonymize: bool) -> float:
    from collector.bundle import build_bundle

    t0 = time.perf_counter()
    build_bundle([rd.path], work / "bundles", redact="default", anonymize={"ips"} if anonymize else None,
                 map_dir=work / "maps")
    return round(time.perf_counter() - t0, 2)


def _markdown(size: int, res: dict[str, Any]) -> str:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        f"# Parse time: {size / MB:.0f} MiB `show ip bgp` ({day}, `python -m benchmarks.parse_bench`)", "",
        f"Step file {res['step_bytes']:,} bytes, {res['records']:,} records ({res['template']}).", "",
        "| what | time | memory |", "|---|---:|---:|",
        f"| parse (TextFSM, block by block) | {res['parse_seconds']} s ({res['mib_per_s']} MiB/s) | "
        f"peak RSS {res['rss_peak_mib']} MiB (before: {res['rss_before_mib']} MiB) |",
        f"| skipped above the limit (`parse_max_size`) | {res['skip_seconds']} s | - |",
    ]
    if "bundle_seconds" in res:
        lines.append(f"| bundle before parsing (redact default: the step file) | "
                     f"{res['bundle_text_only_seconds']} s | |")
        lines.append(f"| bundle after parsing (step + {res['parsed_json_bytes']:,}-byte parsed file) | "
                     f"{res['bundle_seconds']} s | |")
        lines.append(f"| the same with `--anonymize ips` | {res['bundle_anonymized_seconds']} s | peak RSS "
                     f"{res['rss_peak_after_bundle_mib']} MiB (the address map holds every address) |")
    lines += ["", f"Skip note: {res['skip_reason']}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.parse_bench", description=__doc__)
    ap.add_argument("--mb", type=float, default=35.0, help="size of the show ip bgp output (default 35)")
    ap.add_argument("--no-bundle", action="store_true", help="skip the bundle measurement")
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    ap.add_argument("--write", action="store_true", help=f"write the Markdown to {RESULTS.name}")
    args = ap.parse_args(argv)
    size = int(args.mb * MB)
    work = Path(tempfile.mkdtemp(prefix="parse-bench-"))
    try:
        res = measure(size, work, bundle=not args.no_bundle)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        json.dump({"mb": args.mb, **res}, sys.stdout, indent=2)
        print()
        return 0
    text = _markdown(size, res)
    print(text)
    if args.write:
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
