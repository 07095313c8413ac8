"""Section 7 of `make bench`: whole processes as a user runs them, start to exit, imports and printing included.

`collector version`, `collector run PLAYBOOK --target ssh://…` (500 short commands; one 100 MiB output) against a
small scrapli / netmiko script doing the same in its own process (same sshd, same key), and what printing costs.
"""

from __future__ import annotations

import compileall
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .measure import REPO, Budget, Sample, Stats, fmt_ratio, ratio, run_interleaved, run_whole, summarize
from .report import Config, Report, log
from .ssh_sections import failures, ok_samples
from .sshd_host import MB, BenchHost, data_file

STARTUP = ("python", "import-paramiko", "import-scrapli", "version", "help")
MANY = ("collector", "collector-json", "scrapli", "netmiko")
BIG = ("collector", "collector-exec", "scrapli")
LABEL = {
    "python": "`python -c pass` (the interpreter alone)",
    "import-paramiko": "`python -c 'import paramiko'`",
    "import-scrapli": "`python -c 'import scrapli'`",
    "version": "**`collector version`**",
    "help": "`collector --help`",
    "collector": "**`collector run`** (progress and table on a terminal)",
    "collector-json": "**`collector run --json`** (JSON to a pipe)",
    "collector-exec": "**`collector run`**, the step in `mode: exec`",
    "scrapli": "scrapli script (`Cli.send_input`, system ssh)",
    "netmiko": "netmiko script (`send_command`)",
}


@dataclass
class Whole:
    """The files one whole-process section needs: playbooks, command lists, host JSON, per-tool output dirs."""

    host: BenchHost
    root: Path
    collector: str
    playbooks: dict[str, Path] = field(default_factory=dict)
    commands: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def make(cls, host: BenchHost, root: Path, cfg: Config) -> Whole:
        exe = Path(sys.executable).with_name("collector")
        w = cls(host, root, str(exe if exe.exists() else shutil.which("collector") or exe))
        (root / "host.json").write_text(json.dumps(host.__dict__))
        big, _ = data_file(cfg.big_mb * MB)
        w.add("many", [f"echo {i}" for i in range(cfg.many)])
        w.add("big", [f"cat {big}"])
        w.add("big-exec", [f"cat {big}"], mode="exec")
        return w

    def add(self, name: str, commands: list[str], mode: str = "interactive") -> None:
        steps = "".join(f"  - command: {c}\n    mode: {mode}\n" for c in commands)
        self.playbooks[name] = self.root / f"{name}.yaml"
        self.playbooks[name].write_text(f"name: bench-{name}\nplatform: linux\nsteps:\n{steps}")
        self.commands[name] = self.root / f"{name}.txt"
        self.commands[name].write_text("".join(c + "\n" for c in commands))

    def out_dir(self, tool: str) -> Path:
        """A fresh output directory for the next run of `tool` (the previous run's output is removed first)."""
        path = self.root / f"out-{tool}"
        shutil.rmtree(path, ignore_errors=True)
        return path

    def argv(self, tool: str, case: str) -> tuple[list[str], bool]:
        """The command line of one whole process, and whether it writes to a terminal."""
        py = sys.executable
        if tool == "python":
            return [py, "-c", "pass"], True
        if tool.startswith("import-"):
            return [py, "-c", f"import {tool.removeprefix('import-')}"], True
        if tool in ("version", "help"):
            return [self.collector, "version" if tool == "version" else "--help"], True
        if tool in ("scrapli", "netmiko"):
            return [py, str(REPO / "benchmarks" / "peer_script.py"), tool, str(self.root / "host.json"),
                    str(self.commands[case]), str(self.out_dir(tool))], True
        playbook = self.playbooks["big-exec" if tool == "collector-exec" else case]
        h = self.host
        argv = [self.collector, "run", str(playbook), "--target", f"ssh://{h.user}@{h.host}:{h.port}",
                "--key", h.key_path, "--known-hosts", h.known_hosts, "--no-ssh-config",
                "--runs-dir", str(self.out_dir(tool))]
        return (argv + ["--json"], False) if tool == "collector-json" else (argv, True)

    def run(self, tool: str, case: str, timeout: float) -> Sample:
        argv, terminal = self.argv(tool, case)
        return run_whole(argv, timeout, terminal=terminal, tool=tool, case=case,
                         env={"COLLECTOR_HOME": str(self.root / "home")})


def byte_compile_collector() -> None:
    """Write collector's bytecode as `pip install` does for an installed package. An editable install in an
    environment with PYTHONDONTWRITEBYTECODE=1 never writes it, and every process would compile ~110 modules
    from source (about 0.1 s), which the peers, installed with their bytecode, do not pay."""
    compileall.compile_dir(str(REPO / "collector"), quiet=1)


def whole(host: BenchHost, cfg: Config, rep: Report) -> None:
    byte_compile_collector()
    with tempfile.TemporaryDirectory(prefix="bench-whole-") as tmp:
        w = Whole.make(host, Path(tmp), cfg)
        log(f"[whole] start-up: {cfg.startup_runs} interleaved runs of {len(STARTUP)} processes")
        start = run_interleaved(STARTUP, cfg.startup_runs, lambda t: w.run(t, "", 60), log)
        log(f"[whole] {cfg.many} commands: {cfg.whole_runs} interleaved runs (netmiko {cfg.whole_netmiko_runs})")
        many = _limited(MANY, cfg.whole_runs, {"netmiko": cfg.whole_netmiko_runs}, lambda t: w.run(t, "many", 900))
        render = _render(w.root / "out-collector", cfg.render_runs)
        log(f"[whole] {cfg.big_mb} MiB: {cfg.whole_runs} interleaved runs")
        big = run_interleaved(BIG, cfg.whole_runs, lambda t: w.run(t, "big", 900), log)
        walls = {k: _wall(v) for k, v in (("start", start), ("many", many), ("big", big))}
        rep.sections.append(_section(cfg, start, many, big, render))
        budgets = _budgets(cfg, walls, render)
        rep.budgets += budgets
        if cfg.profile and any(b.met is False or (b.margin or 0) < 0.10 for b in budgets[1:3]):
            from .whole_profile import profile_whole

            for tool, case, label in (("collector", "many", f"{cfg.many} short commands, on a terminal"),
                                      ("collector-json", "many", f"{cfg.many} short commands, --json to a pipe"),
                                      ("collector", "big", f"{cfg.big_mb} MiB, on a terminal")):
                argv, terminal = w.argv(tool, case)
                rep.profiles.append(profile_whole(argv, label, walls[case][tool].median, w.root, terminal))


def _limited(names: tuple[str, ...], runs: int, caps: dict[str, int],
             one: Callable[[str], Sample]) -> dict[str, list[Sample]]:
    """run_interleaved, with at most caps[name] runs of a slow tool (netmiko takes ~45 s per 500 commands)."""
    counts: dict[str, int] = {}

    def capped(name: str) -> Sample | None:
        counts[name] = counts.get(name, 0) + 1
        return None if counts[name] > caps.get(name, runs) else one(name)

    raw = run_interleaved(names, runs, capped, log)
    return {n: [s for s in v if s is not None] for n, v in raw.items()}


def _wall(res: dict[str, list[Sample]]) -> dict[str, Stats]:
    return {t: summarize(s.wall_s for s in ok_samples(v)) for t, v in res.items()}


def _render(runs_dir: Path, runs: int) -> dict[str, Stats]:
    """Medians of render_bench over `runs` runs on the last collector run's directory (seconds)."""
    found = sorted(p for p in runs_dir.glob("*") if (p / "journal.jsonl").exists()) if runs_dir.exists() else []
    if not found:
        return {}
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        for i in range(runs):
            out = Path(tmp) / f"{i}.json"
            s = run_whole([sys.executable, "-m", "benchmarks.render_bench", str(found[-1]), str(out)], 120,
                          terminal=True, tool="render", case="many")
            if s.ok and out.exists():
                results.append(json.loads(out.read_text()))
    got: dict[str, Stats] = {"commands": summarize(r["commands_s"] for r in results),
                             "steps": summarize(r["steps"] for r in results)}
    for part in ("rich_import", "progress", "table", "json"):
        got[part] = summarize(r[part]["wall_s"] for r in results)
        got[part + "_cpu"] = summarize(r[part]["cpu_s"] for r in results)
    got["rendering"] = summarize(r["rich_import"]["wall_s"] + r["progress"]["wall_s"] + r["table"]["wall_s"]
                                 for r in results)
    return got


def _rows(names: tuple[str, ...], res: dict[str, list[Sample]], base: str | None, size: int = 0) -> list[str]:
    head = "| process | wall s median (min–max) | CPU s | peak RSS MiB | output bytes | runs |"
    head += " MiB/s (whole process) |" if size else ""
    head += " collector run / process |" if base else ""
    rows = [head, "|" + "---|" * head.count(" |")]
    walls = _wall(res)
    for t in names:
        good = ok_samples(res[t])
        fail = failures(res[t])
        line = (f"| {LABEL[t]} | {walls[t].fmt('.3f')}{' — ' + fail if fail else ''} | "
                f"{summarize(s.cpu_s for s in good).fmt('.2f')} | {summarize(s.maxrss_mb for s in good).fmt('.0f')} "
                f"| {summarize(s.result['out_bytes'] for s in good).fmt('.0f')} | {len(good)} |")
        if size:
            line += f" {summarize(size / MB / s.wall_s for s in good).fmt()} |"
        if base:
            line += f" {fmt_ratio(ratio(walls[base], walls[t]))} |"
        rows.append(line)
    return rows


def _section(cfg: Config, start: dict[str, list[Sample]], many: dict[str, list[Sample]],
             big: dict[str, list[Sample]], render: dict[str, Stats]) -> str:
    return "\n".join([
        "## 7. Whole processes, as a user runs them",
        "",
        "Start to exit, interpreter start-up, imports, login, the commands and all printing included, each run a "
        "fresh process started by `benchmarks/proc_time.py` (a small stdlib launcher that forks, execs and "
        "`os.wait4`s, like `/usr/bin/time`): wall time, CPU of the whole process tree (scrapli's ssh included), "
        "peak RSS of the tree's largest process. Processes writing to a terminal get a 120×40 pty (read and "
        "counted by the harness); `--json` writes to a pipe. collector: `collector run PLAYBOOK --target "
        "ssh://…` with `--key`, `--known-hosts` and `--no-ssh-config`, a fresh `--runs-dir` each run (the real "
        "write-ahead store), its modules byte-compiled first as `pip install` does (an editable install under "
        "PYTHONDONTWRITEBYTECODE=1 would compile them from source in every process). Peers: "
        "`benchmarks/peer_script.py`, the smallest script that logs in with the same key, runs the same commands "
        "in one session and saves each output to a file. Interleaved runs; medians.",
        "",
        f"### 7a. Start-up ({cfg.startup_runs} runs)", "", *_rows(STARTUP, start, None), "",
        f"### 7b. {cfg.many} short commands (`echo N`) in one session", "", *_rows(MANY, many, "collector"), "",
        f"### 7c. One {cfg.big_mb} MiB output (`cat`)", "", *_rows(BIG, big, "collector", cfg.big_mb * MB), "",
        f"### 7d. What printing a {cfg.many}-step run costs", "", *_render_rows(render, many),
    ])


def _render_rows(render: dict[str, Stats], many: dict[str, list[Sample]]) -> list[str]:
    if not render or not render["commands"].n:
        return ["(the render job did not run: no collector run directory was left)"]
    walls = _wall(many)
    cpu = {t: summarize(s.cpu_s for s in ok_samples(v)) for t, v in many.items()}

    def ms(key: str) -> str:
        cpu_ms = render[key + "_cpu"].fmt(".1f", 1000) if key + "_cpu" in render else "–"
        return f"{render[key].fmt('.1f', 1000)} | {cpu_ms}"

    return [
        "`benchmarks/render_bench.py` replays the last run's records, on a terminal, through the CLI's own code "
        "(RichObserver's progress lines, then `print_outcome` as a table and as `--json`); the commands' time is "
        "the sum of the step durations the run recorded. Whole-process difference: the table on a terminal minus "
        "`--json` to a pipe (7b).",
        "",
        "| part | wall ms median (min–max) | CPU ms |", "|---|---|---|",
        f"| importing rich (the table path only) | {ms('rich_import')} |",
        f"| progress lines ({render['steps'].median:.0f} steps + run lines) | {ms('progress')} |",
        f"| summary table (`print_outcome`) | {ms('table')} |",
        f"| **rendering: the three above** | {ms('rendering')} |",
        f"| JSON document (`print_outcome --json`) | {ms('json')} |",
        f"| the commands themselves (sum of step durations) | {ms('commands')} |",
        f"| whole process: table on a terminal − `--json` to a pipe | "
        f"{(walls['collector'].median - walls['collector-json'].median) * 1000:.0f} | "
        f"{(cpu['collector'].median - cpu['collector-json'].median) * 1000:.0f} |",
    ]


def _budgets(cfg: Config, walls: dict[str, dict[str, Stats]], render: dict[str, Stats]) -> list[Budget]:
    version = walls["start"]["version"]
    rendering = ratio(render["rendering"], render["commands"]) if render else None
    return [
        Budget("`collector version`, whole process (s)", version.median if version.n else None, 0.15,
               lower_is_better=True, unit=" s", spec=".3f"),
        Budget(f"`collector run`, {cfg.many} short commands, whole process ≤ scrapli's whole process",
               ratio(walls["many"]["collector"], walls["many"]["scrapli"]), 1.0, lower_is_better=True),
        Budget(f"`collector run`, {cfg.big_mb} MiB, whole process ≤ 0.5× scrapli's whole process",
               ratio(walls["big"]["collector"], walls["big"]["scrapli"]), 0.5, lower_is_better=True),
        Budget(f"Printing a {cfg.many}-step run (progress + table) ≤ its commands' time", rendering, 1.0,
               lower_is_better=True),
    ]
