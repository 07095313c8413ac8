"""py-spy profiles of the in-process collector runs whose budget was missed or met narrowly (or all of them).

One extra run of the tool under `py-spy record -f raw`; the top frames go into the report's Profiles section.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .measure import Stats, run_child
from .profile_summary import summarize_collapsed
from .report import Config, Report, log
from .sshd_host import MB, BenchHost, data_file

# -- profiles -----------------------------------------------------------------------------------------------------
PROFILE_EXCLUDE = ("_preload", "shutil.py", "<frozen importlib")


def profile_tool(host: BenchHost, tool: str, size_mb: int, rep: Report, why: str, *, many: int = 0) -> None:
    """One extra run of `tool` under py-spy (big output, or `many` short commands); top functions into the report."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not os.path.exists(pyspy):
        rep.profiles.append(f"### {tool}\n\n{why}; py-spy is not installed (`.venv/bin/pip install py-spy`).")
        return
    path, _ = data_file(size_mb * MB)
    what = f"{many} short commands" if many else f"{size_mb} MiB"
    log(f"[profile] py-spy on {tool}, {what}")
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp:
        out = Path(tmp) / "stacks.txt"
        job: dict[str, Any] = {"host": host.__dict__, "tool": tool, "case": "big", "command": f"cat {path}",
                               "timeout": 600}
        if many:
            job.update(case="many", count=many)
        argv = [pyspy, "record", "-r", "200", "-f", "raw", "-o", str(out), "--",
                sys.executable, "-m", "benchmarks.tools", json.dumps(job)]
        sample = run_child(argv, 700, tool=tool, case="profile")
        if not out.exists():
            rep.profiles.append(f"### {tool}\n\n{why}; py-spy produced nothing ({sample.error}).")
            return
        # the child's imports and clean-up are not the tool's work
        summary = summarize_collapsed(out.read_text(), top=12, exclude=PROFILE_EXCLUDE)
    if sample.ok and many:
        speed = f"{float(sample.result['command_s']) * 1000 / many:.2f} ms per command under the profiler"
    elif sample.ok:
        speed = f"{size_mb / float(sample.result['command_s']):.1f} MiB/s under the profiler"
    else:
        speed = f"failed: {sample.error}"
    rep.profiles.append(f"### {tool}, {what} ({speed})\n\n{why}.\n\n{summary}")



def profiles(host: BenchHost, cfg: Config, rep: Report, speed: dict[str, Stats], everything: bool = False) -> None:
    """py-spy the collector runs whose budget was missed or met by less than 10 % (all of them with `everything`)."""
    missed = {b.name for b in rep.budgets if b.met is False or (b.margin is not None and b.margin < 0.10)}
    tag = "profiled on request" if everything else "budget missed or met by less than 10 %"
    if everything:
        missed = {"Interactive throughput", "Exec mode", "small commands"}
    size = cfg.big_mb
    if any(n.startswith("Interactive throughput") for n in missed):
        profile_tool(host, "collector", size, rep, f"interactive throughput: {tag}")
        profile_tool(host, "paramiko-pty", size, rep, "for comparison: the bare paramiko pty read")
    if any(n.startswith("Exec mode") for n in missed):
        profile_tool(host, "collector-exec", size, rep, f"exec-mode throughput: {tag}")
        profile_tool(host, "paramiko-exec", size, rep, "for comparison: the bare paramiko read without a pty")
    if any("small commands" in n for n in missed):
        profile_tool(host, "collector", size, rep, f"small commands: {tag}", many=cfg.many)
        profile_tool(host, "scrapli", size, rep, "for comparison: scrapli on the same commands (its Zig core is "
                     "invisible to py-spy: time inside it shows as the calling Python frame)", many=cfg.many)


