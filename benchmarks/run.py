"""`make bench`: collector against raw OpenSSH, bare paramiko, netmiko and scrapli on one local sshd (issues 8, 12).

Writes benchmarks/RESULTS.md (machine, versions, date, tables, budget lines, profiles). See --help for the flags.
Sections live in ssh_sections.py (in-process), whole_process.py (whole processes), extra_sections.py; report.py
writes the file.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .extra_sections import experiment, modem, parse_patch, resume, sleep_audit
from .measure import REPO, Stats
from .profiling import profiles
from .report import Config, Report, append_report, log, write_report
from .ssh_sections import connect, many, memory, throughput
from .sshd_host import BenchSetupError, SshdHost
from .whole_process import whole

MEASUREMENTS = ("throughput", "many", "memory", "connect", "modem", "resume", "whole", "experiment", "profile")

def parse_args(argv: list[str]) -> tuple[Config, Path, bool]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, 3 runs, no profiles (under 3 minutes)")
    ap.add_argument("--full", action="store_true", help="1 GiB memory test, 64 KiB modem goodput, netmiko 5 runs")
    ap.add_argument("--only", action="append", default=[], help=f"one of {', '.join(MEASUREMENTS)} (repeatable, "
                    "or comma-separated)")
    ap.add_argument("--runs", type=int, help="runs per tool (default 5, quick 3)")
    ap.add_argument("--size-mb", type=int, help="throughput output size in MiB (default 100)")
    ap.add_argument("--mem-mb", type=int, help="memory test output size in MiB (default 256, --full 1024)")
    ap.add_argument("--no-profile", action="store_true", help="skip py-spy profiles of missed budgets")
    ap.add_argument("--patch", action="append", default=[], metavar="MODULE.NAME=VALUE",
                    help="with --only experiment: set a collector constant in the child (what-if, before/after)")
    ap.add_argument("--output", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    ap.add_argument("--append", action="store_true", help="add this run's sections to the output file")
    a = ap.parse_args(argv)
    cfg = Config()
    if a.quick:
        cfg = Config(runs=3, big_mb=20, mem_mb=64, many=100, many_runs_netmiko=3, connect_rounds=3,
                     connect_per_round=2, modem_bytes=1024, modem_runs=3, modem_commands=5, resume_runs=3,
                     startup_runs=5, whole_runs=3, whole_netmiko_runs=1, render_runs=2, profile=False, mode="quick")
    elif a.full:
        cfg = Config(mem_mb=1024, mem_runs=3, many_runs_netmiko=5, modem_bytes=65536, mode="full")
    if a.runs:
        cfg.runs = cfg.resume_runs = cfg.modem_runs = cfg.mem_runs = cfg.whole_runs = a.runs
        cfg.many_runs_netmiko = min(cfg.many_runs_netmiko, a.runs)
        cfg.whole_netmiko_runs = min(cfg.whole_netmiko_runs, a.runs)
    if a.size_mb:
        cfg.big_mb = a.size_mb
    if a.mem_mb:
        cfg.mem_mb = a.mem_mb
    if a.no_profile:
        cfg.profile = False
    try:
        cfg.patch = dict(parse_patch(p) for p in a.patch)
    except ValueError as exc:
        ap.error(str(exc))
    only = [x.strip() for o in a.only for x in o.split(",") if x.strip()]
    bad = [o for o in only if o not in MEASUREMENTS]
    if bad:
        ap.error(f"unknown measurement {bad[0]!r}; choose from {', '.join(MEASUREMENTS)}")
    if only:
        cfg.only = tuple(only)
    return cfg, a.output, a.append


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cfg, output, append = parse_args(args)
    rep = Report(cfg, datetime.now(UTC))
    t0 = time.monotonic()
    try:
        with SshdHost() as host:
            speed: dict[str, Stats] = {}
            baseline: dict[str, Stats] = {}
            if "throughput" in cfg.only:
                speed = throughput(host, cfg, rep)
            if "many" in cfg.only:
                many(host, cfg, rep)
            if "connect" in cfg.only or "memory" in cfg.only:
                baseline = connect(host, cfg, rep, report="connect" in cfg.only)
            if "memory" in cfg.only:
                memory(host, cfg, rep, baseline)
            if "resume" in cfg.only:
                resume(host, cfg, rep)
            if "whole" in cfg.only:
                whole(host, cfg, rep)
            if "experiment" in cfg.only:
                experiment(host, cfg, rep)
            if "profile" in cfg.only:
                profiles(host, cfg, rep, speed, everything=True)
            elif cfg.profile:
                profiles(host, cfg, rep, speed)
    except BenchSetupError as exc:
        log(f"bench: {exc}")
        return 2
    if "modem" in cfg.only:
        modem(cfg, rep)
    if not append:
        sleep_audit(rep)
    if append:
        append_report(rep, output, args)
    else:
        write_report(rep, output, args)
    log(f"wrote {output} in {time.monotonic() - t0:.0f} s")
    for b in rep.budgets:
        log(f"  {b.name}: {b.verdict().replace('**', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
