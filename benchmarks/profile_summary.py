"""Turns py-spy's collapsed stacks (`record -f raw`) into a short Markdown table: where the samples went.

Self share = samples whose innermost frame is the function; inclusive share = samples with it anywhere on the stack.
"""

from __future__ import annotations

import re
from collections import Counter

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def frame_name(frame: str, line: bool = False) -> str:
    """`func (path/to/site-packages/pkg/mod.py:12)` -> `pkg/mod.py:func` (or `pkg/mod.py:12:func` with line)."""
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file").split("site-packages/")[-1]
    for root in ("/collector/", "/benchmarks/"):
        if root in path:
            path = root.strip("/") + "/" + path.split(root, 1)[1]
    if line and m.group("line"):
        path = f"{path}:{m.group('line')}"
    return f"{path}:{m.group('func')}"


def parse_collapsed(text: str, exclude: tuple[str, ...] = ()) -> tuple[int, Counter[str], Counter[str]]:
    """Total samples, self counts per innermost line, and inclusive counts per function.

    Stacks containing any of `exclude` (substrings of a frame) are left out, e.g. the child's import phase.
    """
    total = 0
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        raw = [f for f in stack.split(";") if f]
        if not raw or any(x in f for f in raw for x in exclude):
            continue
        total += n
        frames = [frame_name(f) for f in raw]
        self_c[frame_name(raw[-1], line=True)] += n
        for f in set(frames):
            incl[f] += n
    return total, self_c, incl


_BORING = ("<frozen", "runpy", "threading.py:Thread._bootstrap", "benchmarks/tools.py:<module>",
           "benchmarks/tools.py:main")


def summarize_collapsed(text: str, top: int = 12, exclude: tuple[str, ...] = ()) -> str:
    total, self_c, incl = parse_collapsed(text, exclude)
    if total == 0:
        return "(no samples)"
    left_out = f" (stacks through {', '.join(f'`{x}`' for x in exclude)} left out)" if exclude else ""
    rows = [f"{total} samples of active threads, all threads{left_out}.", "",
            "| self | innermost frame (file:line:function) |",
            "|---|---|"]
    rows += [f"| {c / total:.1%} | `{f}` |" for f, c in self_c.most_common(top)]
    rows += ["", "| inclusive | function (anywhere on the stack) |", "|---|---|"]
    shown = [(f, c) for f, c in incl.most_common() if not any(b in f for b in _BORING)][:top]
    rows += [f"| {c / total:.1%} | `{f}` |" for f, c in shown]
    return "\n".join(rows)
