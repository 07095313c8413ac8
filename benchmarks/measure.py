"""Measurement plumbing: each tool run in a fresh child process (peak RSS and CPU from os.wait4), interleaving, stats.

Stats are min/median/max over runs; comparisons are ratios of medians, so the box's absolute speed cancels out.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")


# -- stats -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    n: int
    min: float
    median: float
    max: float

    def fmt(self, spec: str = ".1f", scale: float = 1.0) -> str:
        """`median (min–max)`, or `median` alone for a single run."""
        if self.n == 0:
            return "–"
        med = format(self.median * scale, spec)
        if self.n == 1:
            return med
        return f"{med} ({format(self.min * scale, spec)}–{format(self.max * scale, spec)})"


def summarize(values: Iterable[float]) -> Stats:
    vals = sorted(float(v) for v in values)
    if not vals:
        return Stats(0, float("nan"), float("nan"), float("nan"))
    return Stats(len(vals), vals[0], statistics.median(vals), vals[-1])


def ratio(a: Stats, b: Stats) -> float | None:
    """a.median / b.median, or None when either side is missing or b is zero."""
    if a.n == 0 or b.n == 0 or b.median == 0:
        return None
    return a.median / b.median


def fmt_ratio(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f}×"


@dataclass(frozen=True)
class Budget:
    """One budget line: `value` against `target`; met when value >= target (or <= when lower_is_better)."""

    name: str
    value: float | None
    target: float
    lower_is_better: bool = False
    unit: str = "×"

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value <= self.target if self.lower_is_better else self.value >= self.target

    @property
    def margin(self) -> float | None:
        """How far from the target, as a fraction of it (positive = better than needed)."""
        if self.value is None or self.target == 0:
            return None
        diff = (self.target - self.value) if self.lower_is_better else (self.value - self.target)
        return diff / self.target

    def verdict(self) -> str:
        if self.met is None:
            return "not measured"
        if self.target == 0:
            return "**met**" if self.met else "**missed**"
        margin = self.margin
        how = f" by {abs(margin):.0%}" if margin is not None else ""
        return f"**met**{how}" if self.met else f"**missed**{how}"


def interleave(names: Sequence[str], runs: int) -> list[tuple[int, str]]:
    """Run order: every round visits every tool, alternating direction (A B C, C B A, ...) so no tool is
    always first after a pause or always right after the heaviest one. Returns (round, name) pairs."""
    order: list[tuple[int, str]] = []
    for r in range(runs):
        seq = list(names) if r % 2 == 0 else list(reversed(names))
        order.extend((r, n) for n in seq)
    return order


# -- child processes ---------------------------------------------------------------------------------------------
@dataclass
class Sample:
    """One child run: what it reported plus what the kernel says it cost."""

    tool: str
    case: str
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0  # user + system, the child and every descendant it waited for (os.wait4)
    maxrss_mb: float = 0.0  # the child's own peak RSS (VmHWM it reports), else wait4's ru_maxrss
    error: str | None = None


def _last_json(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def run_child(argv: list[str], timeout: float, *, tool: str = "", case: str = "") -> Sample:
    """Start argv in its own process group, wait with os.wait4 for its rusage, kill the group on timeout."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, process_group=0)
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    with contextlib.suppress(ProcessLookupError):  # descendants of the child (scrapli's ssh) must not outlive it
        os.killpg(proc.pid, signal.SIGKILL)
    for t in readers:
        t.join(timeout=5)
    for s in (proc.stdout, proc.stderr):
        if s is not None:
            s.close()
    out = chunks.get("out", b"").decode(errors="replace")
    err = chunks.get("err", b"").decode(errors="replace")
    result = _last_json(out) or {}
    sample = Sample(tool=tool, case=case, ok=False, result=result, wall_s=wall,
                    cpu_s=usage.ru_utime + usage.ru_stime, maxrss_mb=usage.ru_maxrss / 1024.0)
    # wait4's ru_maxrss is useless here: exec records the parent's RSS (vfork shares its memory until exec) as the
    # child's high-water mark. The child reports VmHWM of its own post-exec memory instead.
    if isinstance(result.get("vmhwm_kb"), int | float):
        sample.maxrss_mb = float(result["vmhwm_kb"]) / 1024.0
    if killed.is_set():
        sample.error = f"killed after {timeout:.0f} s"
    elif result.get("error"):
        sample.error = str(result["error"])
    elif proc.returncode != 0 or not result:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        sample.error = f"exit {proc.returncode}: {tail[:200]}"
    else:
        sample.ok = True
    return sample


def tool_job(job: dict[str, Any], timeout: float) -> Sample:
    """Run one benchmarks.tools job in a fresh interpreter."""
    argv = [sys.executable, "-m", "benchmarks.tools", json.dumps(job)]
    return run_child(argv, timeout, tool=str(job["tool"]), case=str(job["case"]))


def run_interleaved(names: Sequence[str], runs: int, one: Callable[[str], T],
                    log: Callable[[str], None] | None = None) -> dict[str, list[T]]:
    """Call `one(name)` for every (round, name) of interleave(); results grouped by name."""
    out: dict[str, list[T]] = {n: [] for n in names}
    for r, name in interleave(names, runs):
        if log is not None:
            log(f"  round {r + 1}/{runs}: {name}")
        out[name].append(one(name))
    return out
