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


def _stacks(text: str, main_only: bool = False) -> list[tuple[list[str], int]]:
    """(raw frames, count) per line of py-spy's raw output; main_only leaves out the stacks of other threads
    (theirs start in `threading.py:Thread._bootstrap`)."""
    out: list[tuple[list[str], int]] = []
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        raw = [f for f in stack.split(";") if f]
        if raw and not (main_only and frame_name(raw[0]).endswith("Thread._bootstrap")):
            out.append((raw, int(count)))
    return out


def parse_collapsed(text: str, exclude: tuple[str, ...] = (), *,
                    main_only: bool = False) -> tuple[int, Counter[str], Counter[str]]:
    """Total samples, self counts per innermost line, and inclusive counts per function.

    Stacks containing any of `exclude` (substrings of a frame) are left out, e.g. the child's import phase.
    """
    total = 0
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    for raw, n in _stacks(text, main_only):
        if any(x in f for f in raw for x in exclude):
            continue
        total += n
        frames = [frame_name(f) for f in raw]
        self_c[frame_name(raw[-1], line=True)] += n
        for f in set(frames):
            incl[f] += n
    return total, self_c, incl


_BORING = ("<frozen", "runpy", "threading.py:Thread._bootstrap", "benchmarks/tools.py:<module>",
           "benchmarks/tools.py:main")


def summarize_collapsed(text: str, top: int = 12, exclude: tuple[str, ...] = (), *, main_only: bool = False,
                        inclusive: bool = True) -> str:
    total, self_c, incl = parse_collapsed(text, exclude, main_only=main_only)
    if total == 0:
        return "(no samples)"
    left_out = f" (stacks through {', '.join(f'`{x}`' for x in exclude)} left out)" if exclude else ""
    which = "the main thread" if main_only else "active threads, all threads"
    rows = [f"{total} samples of {which}{left_out}.", "",
            "| self | innermost frame (file:line:function) |",
            "|---|---|"]
    rows += [f"| {c / total:.1%} | `{f}` |" for f, c in self_c.most_common(top)]
    if inclusive:
        rows += ["", "| inclusive | function (anywhere on the stack) |", "|---|---|"]
        shown = [(f, c) for f, c in incl.most_common() if not any(b in f for b in _BORING)][:top]
        rows += [f"| {c / total:.1%} | `{f}` |" for f, c in shown]
    return "\n".join(rows)


#: where a whole `collector run` process spends its time: the first phase whose marker is on a stack takes it
RUN_PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("imports (start-up and lazy)", ("<frozen importlib",)),
    ("summary (table or JSON)", ("collector/cli/outcome.py:print_outcome",)),
    ("progress lines (one per step)", ("collector/ui/progress.py:RichObserver", "collector/ui/log_observer.py")),
    ("playbook: read, validate, guard", ("collector/cli/load.py", "collector/playbook/")),
    ("connect + login", ("collector/runner/connector.py:Connector.connect", "collector/runner/link.py:Link.connect")),
    ("commands (the steps)", ("collector/runner/steps.py:StepRunner",)),
    ("run directory, journal, run.json", ("collector/runner/runner.py",)),
    ("CLI parsing (typer)", ("typer/",)),
)
Phases = tuple[tuple[str, tuple[str, ...]], ...]


#: innermost frames where a thread waits (for the device, a lock, a timer) rather than works
WAITS = ("threading.py:Condition.wait", "threading.py:Event.wait", "selectors.py:", "socket.py:", "time.sleep",
         "ssl.py:")


def phase_shares(text: str, phases: Phases = RUN_PHASES) -> tuple[int, dict[str, tuple[int, int]]]:
    """Samples of the main thread per phase (plus "other") as (all, waiting): with py-spy --idle the samples are
    proportional to wall time; "waiting" = the innermost frame is a wait (WAITS)."""
    total = 0
    counts: dict[str, list[int]] = {name: [0, 0] for name, _ in phases}
    counts["other"] = [0, 0]
    for raw, n in _stacks(text, main_only=True):
        frames = [frame_name(f) for f in raw]
        total += n
        name = next((p for p, marks in phases if any(m in f for f in frames for m in marks)), "other")
        counts[name][0] += n
        if any(w in frames[-1] for w in WAITS):
            counts[name][1] += n
    return total, {k: (v[0], v[1]) for k, v in counts.items()}


def phase_table(text: str, wall_s: float | None, phases: Phases = RUN_PHASES) -> str:
    """Markdown `| phase | share | ≈ s | of which waiting |`: the main thread's samples per phase; seconds = share ×
    wall_s (the median wall time of the same process measured without the profiler, which slows what it samples)."""
    total, counts = phase_shares(text, phases)
    if total == 0:
        return "(no samples)"

    def secs(n: int) -> str:
        return f"{n / total * wall_s:.2f}" if wall_s else "–"

    rows = ["| phase | share of the main thread's samples | ≈ s of the unprofiled median | of which waiting, ≈ s |",
            "|---|---|---|---|"]
    rows += [f"| {name} | {n / total:.1%} | {secs(n)} | {secs(idle)} |" for name, (n, idle) in counts.items() if n]
    idle_all = sum(idle for _, idle in counts.values())
    rows.append(f"| total ({total} samples) | 100% | {secs(total)} | {secs(idle_all)} |")
    return "\n".join(rows)
