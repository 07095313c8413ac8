"""The benchmark's helpers: stats, ratios, budget verdicts, interleaving, child rusage, py-spy summaries."""

from __future__ import annotations

import math
import sys

from benchmarks.measure import Budget, Stats, fmt_ratio, interleave, ratio, run_child, run_interleaved, summarize
from benchmarks.profile_summary import frame_name, parse_collapsed, summarize_collapsed


def test_summarize_min_median_max() -> None:
    s = summarize([3.0, 1.0, 2.0, 10.0, 4.0])
    assert (s.n, s.min, s.median, s.max) == (5, 1.0, 3.0, 10.0)
    assert summarize([1.0, 2.0, 3.0, 4.0]).median == 2.5


def test_summarize_empty_and_single() -> None:
    empty = summarize([])
    assert empty.n == 0 and math.isnan(empty.median)
    assert empty.fmt() == "–"
    one = summarize([2.0])
    assert one.fmt(".1f") == "2.0"
    assert summarize([1.0, 2.0, 4.0]).fmt(".1f") == "2.0 (1.0–4.0)"
    assert summarize([0.5, 1.0, 2.0]).fmt(".0f", 1000) == "1000 (500–2000)"


def test_ratio_of_medians() -> None:
    a = summarize([2.0, 4.0, 6.0])
    b = summarize([1.0, 2.0, 3.0])
    assert ratio(a, b) == 2.0
    assert ratio(a, summarize([])) is None
    assert ratio(a, Stats(1, 0.0, 0.0, 0.0)) is None
    assert fmt_ratio(None) == "–" and fmt_ratio(0.5) == "0.50×"


def test_budget_higher_is_better() -> None:
    met = Budget("x", 1.0, 0.8)
    assert met.met is True and abs((met.margin or 0) - 0.25) < 1e-9
    assert met.verdict() == "**met** by 25%"
    missed = Budget("x", 0.4, 0.8)
    assert missed.met is False and missed.verdict() == "**missed** by 50%"
    assert Budget("x", None, 0.8).verdict() == "not measured"


def test_budget_lower_is_better() -> None:
    b = Budget("rss", 48.0, 64.0, lower_is_better=True, unit=" MiB")
    assert b.met is True and b.verdict() == "**met** by 25%"
    over = Budget("rss", 96.0, 64.0, lower_is_better=True)
    assert over.met is False and over.verdict() == "**missed** by 50%"


def test_budget_zero_target() -> None:
    assert Budget("sleeps", 0.0, 0.0, lower_is_better=True, unit="").verdict() == "**met**"
    assert Budget("sleeps", 2.0, 0.0, lower_is_better=True, unit="").verdict() == "**missed**"


def test_interleave_alternates_direction_and_covers_every_tool() -> None:
    order = interleave(["A", "B", "C"], 3)
    assert [n for _, n in order] == ["A", "B", "C", "C", "B", "A", "A", "B", "C"]
    assert [r for r, _ in order] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    calls: list[str] = []

    def one(name: str) -> int:
        calls.append(name)
        return len(calls)

    got = run_interleaved(["A", "B"], 2, one)
    assert calls == ["A", "B", "B", "A"]
    assert got == {"A": [1, 4], "B": [2, 3]}


def test_run_child_reads_last_json_line_and_rusage() -> None:
    code = "import json; x = bytearray(30 << 20); print('noise'); print(json.dumps({'answer': 42}))"
    s = run_child([sys.executable, "-c", code], 60, tool="t", case="c")
    assert s.ok and s.result == {"answer": 42}
    assert s.cpu_s > 0 and s.wall_s > 0


def test_run_child_reports_failure_and_timeout() -> None:
    bad = run_child([sys.executable, "-c", "import sys; sys.exit(3)"], 60)
    assert not bad.ok and bad.error is not None and bad.error.startswith("exit 3")
    err = run_child([sys.executable, "-c", "print('{\"error\": \"boom\"}')"], 60)
    assert not err.ok and err.error == "boom"
    slow = run_child([sys.executable, "-c", "import time; time.sleep(30)"], 0.5)
    assert not slow.ok and slow.error == "killed after 0 s" and slow.wall_s < 10


def test_run_child_uses_reported_vmhwm() -> None:
    code = "import json; print(json.dumps({'vmhwm_kb': 2048}))"
    s = run_child([sys.executable, "-c", code], 60)
    assert s.maxrss_mb == 2.0


STACKS = """\
main (bench.py:10);run (/x/site-packages/paramiko/channel.py:7);read (/x/site-packages/paramiko/buffered_pipe.py:164) 6
main (bench.py:10);run (/x/site-packages/paramiko/channel.py:7) 2
main (bench.py:10);append (/work/main/collector/store/chunks.py:120) 2
garbage line
"""


def test_collapsed_stacks_self_and_inclusive() -> None:
    total, self_c, incl = parse_collapsed(STACKS)
    assert total == 10
    assert self_c["paramiko/buffered_pipe.py:164:read"] == 6
    assert self_c["collector/store/chunks.py:120:append"] == 2
    assert incl["paramiko/channel.py:run"] == 8
    assert incl["bench.py:main"] == 10
    text = summarize_collapsed(STACKS, top=3)
    assert "| 60.0% | `paramiko/buffered_pipe.py:164:read` |" in text
    assert summarize_collapsed("") == "(no samples)"
    total, self_c, _ = parse_collapsed(STACKS, exclude=("chunks.py",))
    assert total == 8 and "collector/store/chunks.py:120:append" not in self_c


def test_frame_name_shortens_paths() -> None:
    assert frame_name("f (/a/b/site-packages/pkg/m.py:3)") == "pkg/m.py:f"
    assert frame_name("f (/a/b/site-packages/pkg/m.py:3)", line=True) == "pkg/m.py:3:f"
    assert frame_name("g (/work/main/collector/x.py:9)") == "collector/x.py:g"
    assert frame_name("odd") == "odd"
