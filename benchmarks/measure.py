"""Measurement plumbing: each tool run in a fresh child process (peak RSS and CPU from os.wait4), interleaving, stats.

Stats are min/median/max over runs; comparisons are ratios of medians, so the box's absolute speed cancels out.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
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
    spec: str = ""  # number format of value and target in the report (default: by unit)

    def fmt(self, value: float) -> str:
        spec = self.spec or (".2f" if self.unit == "×" else (".0f" if not self.unit else ".1f"))
        return f"{format(value, spec)}{self.unit}"

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
    timer, killed = _kill_group_after(proc, timeout)
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


@dataclass
class _Drain:
    """Reads one output stream to its end: the byte count and the last bytes (for an error line)."""

    fd: int
    total: int = 0
    tail: bytes = b""

    def run(self) -> None:
        while True:
            try:
                block = os.read(self.fd, 65536)
            except OSError:  # a pty master reads EIO once the last writer has closed
                break
            if not block:
                break
            self.total += len(block)
            self.tail = (self.tail + block)[-2048:]


def _open_terminal(cols: int, rows: int) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return master, slave


def run_whole(argv: list[str], timeout: float, *, terminal: bool = False, tool: str = "", case: str = "",
              size: tuple[int, int] = (120, 40), env: dict[str, str] | None = None) -> Sample:
    """Run argv as a user runs it, start to exit, under benchmarks/proc_time.py (a small stdlib launcher that
    forks, execs and os.wait4s, like /usr/bin/time): wall, CPU of the whole process tree, peak RSS of its largest
    process. terminal: stdout and stderr are one pty of `size` (columns, rows), as in a terminal; else two pipes.
    The output is read as it comes and counted, not kept. Sample.result holds exit, out_bytes, user_s, sys_s.
    env: variables added to this process's environment for the run."""
    child_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory(prefix="bench-time-") as tmp:
        res = Path(tmp) / "time.json"
        full = [sys.executable, "-I", "-S", str(REPO / "benchmarks" / "proc_time.py"), str(res), *argv]
        if terminal:
            master, slave = _open_terminal(*size)
            try:
                proc = subprocess.Popen(full, cwd=REPO, env=child_env, stdin=subprocess.DEVNULL, stdout=slave,
                                        stderr=slave, process_group=0)
            finally:
                os.close(slave)
            fds = [master]
        else:
            proc = subprocess.Popen(full, cwd=REPO, env=child_env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0)
            fds = [s.fileno() for s in (proc.stdout, proc.stderr) if s is not None]
        drains = [_Drain(fd) for fd in fds]
        readers = [threading.Thread(target=d.run, daemon=True) for d in drains]
        for r in readers:
            r.start()
        timer, killed = _kill_group_after(proc, timeout)
        try:
            proc.wait()
        finally:
            timer.cancel()
        with contextlib.suppress(ProcessLookupError):  # nothing the run started may outlive it
            os.killpg(proc.pid, signal.SIGKILL)
        for r in readers:
            r.join(timeout=5)
        if terminal:
            os.close(fds[0])
        for s in (proc.stdout, proc.stderr):
            if s is not None:
                s.close()
        timing = json.loads(res.read_text()) if res.exists() else {}
    out_bytes = sum(d.total for d in drains)
    tail = b"".join(d.tail for d in drains).decode(errors="replace").strip().splitlines() or ["no output"]
    sample = Sample(tool=tool, case=case, ok=False, wall_s=float(timing.get("wall_s", 0.0)),
                    cpu_s=float(timing.get("cpu_s", 0.0)), maxrss_mb=float(timing.get("maxrss_kb", 0)) / 1024.0,
                    result={"exit": timing.get("exit"), "out_bytes": out_bytes, "user_s": timing.get("user_s"),
                            "sys_s": timing.get("sys_s")})
    if killed.is_set():
        sample.error = f"killed after {timeout:.0f} s"
    elif timing.get("exit") != 0:
        sample.error = f"exit {timing.get('exit', proc.returncode)}: {tail[-1][:200]}"
    else:
        sample.ok = True
    return sample


def _kill_group_after(proc: subprocess.Popen[bytes], timeout: float) -> tuple[threading.Timer, threading.Event]:
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    return timer, killed


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
