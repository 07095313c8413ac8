"""Sections 5-6 of `make bench` and its extras: slow line (modem), resume after a cut, what-if experiments
(`--patch`), and the static sleep audit of the read path.
"""

from __future__ import annotations

from typing import Any

from .measure import REPO, Budget, Sample, fmt_ratio, ratio, run_interleaved, summarize, tool_job
from .report import Config, Report, log
from .ssh_sections import failures, mib_s, ok_samples
from .sshd_host import MB, BenchHost, data_file


# -- 5. slow line -------------------------------------------------------------------------------------------------
def modem(cfg: Config, rep: Report) -> None:
    from .modem_bench import goodput, per_command

    log(f"[modem] goodput: {cfg.modem_runs} × {cfg.modem_bytes} B at 9600 bps; {cfg.modem_commands} short commands")
    pct: list[float] = []
    errors: list[str] = []
    for _ in range(cfg.modem_runs):
        try:
            pct.append(float(goodput(cfg.modem_bytes, 9600, "pty")["goodput_pct"]))
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported in the table
            errors.append(f"{type(exc).__name__}: {exc}")
    g = summarize(pct)
    try:
        timings = per_command(9600, cfg.modem_commands)
    except Exception as exc:  # noqa: BLE001
        timings = []
        errors.append(f"per-command: {type(exc).__name__}: {exc}")
    secs = summarize(t.seconds for t in timings)
    over = summarize(t.overhead(9600) for t in timings)
    wire = timings[0].wire_bytes if timings else 0
    rows = [
        "| measurement | value median (min–max) |", "|---|---|",
        f"| goodput of one {cfg.modem_bytes}-byte output, % of 960 B/s | {g.fmt('.1f')} (n={g.n}) |",
        f"| `show clock` time, ms ({wire} bytes on the line: echo + output + prompt) | {secs.fmt('.1f', 1000)} |",
        f"| per-command overhead beyond the bytes' line time, ms | {over.fmt('.1f', 1000)} |",
    ]
    err = f"\n\nErrors: {'; '.join(errors)}" if errors else ""
    rep.sections.append(
        "## 5. Slow line: 9600 bps through the modem emulator\n\nGoodput: `benchmarks/modem_goodput.py` "
        "(ModemTransport dialing collector.sim.modem's emulator on a pty, line paced at 9600 bps = 960 B/s of "
        "payload). Per-command: a collector Session logged in to the simulated IOS router behind the same emulator, "
        "`show clock` timed from send to prompt; overhead = time − (bytes the device sent × 10 bits / 9600)."
        + "\n\n" + "\n".join(rows) + err
    )
    rep.budgets.append(Budget("9600-bps goodput ≥ 95 % of line rate", g.median if g.n else None, 95.0, unit=" %"))


# -- 6. resume ----------------------------------------------------------------------------------------------------
def resume(host: BenchHost, cfg: Config, rep: Report) -> None:
    from .resume_bench import default_policy, one_resume

    path, sha = data_file(16 * MB)
    log(f"[resume] {cfg.resume_runs} cuts 4 MiB into a 16 MiB output")
    got = []
    errors = []
    for _ in range(cfg.resume_runs):
        try:
            got.append(one_resume(host, path, sha, cut_at=4 * MB, policy=default_policy()))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")
    rows = ["| from the cut to … | ms median (min–max) |", "|---|---|",
            f"| drop detected (journal `connection-lost`) | {summarize(t.detected for t in got).fmt('.0f', 1000)} |",
            f"| logged in again (journal `reconnected`) | {summarize(t.reconnected for t in got).fmt('.0f', 1000)} |",
            f"| first byte of the re-run step | {summarize(t.first_byte for t in got).fmt('.0f', 1000)} |"]
    exact = sum(1 for t in got if t.sha_ok)
    err = f"\n\nErrors: {'; '.join(errors)}" if errors else ""
    rep.sections.append(
        "## 6. Resume after a cut\n\nThe real Runner (in-process, default reconnect policy) against sshd behind "
        "tests/servers/fault_proxy.py; the proxy cuts both sockets once 4 MiB of the step have arrived. The step is "
        f"re-run from the start; its final file matched the source SHA-256 in {exact}/{len(got)} runs." + err
        + "\n\n" + "\n".join(rows)
    )


# -- what-if experiments ---------------------------------------------------------------------------------------------
def experiment(host: BenchHost, cfg: Config, rep: Report) -> None:
    """collector with and without `--patch` constants, interleaved: before/after numbers for a proposed fix."""
    if not cfg.patch:
        rep.notes.append("`--only experiment` needs at least one `--patch MODULE.NAME=VALUE`; skipped.")
        return
    size = cfg.big_mb * MB
    path, sha = data_file(size)
    names = ("collector", "collector+patch", "collector-exec", "collector-exec+patch")
    log(f"[experiment] {cfg.patch} on {cfg.big_mb} MiB, {cfg.runs} interleaved runs")

    def one(name: str) -> Sample:
        tool, _, patched = name.partition("+")
        job = {"host": host.__dict__, "tool": tool, "case": "big", "command": f"cat {path}", "timeout": 600,
               "patch": cfg.patch if patched else {}}
        return tool_job(job, 660)

    res = run_interleaved(names, cfg.runs, one, log)
    speed = {n: summarize(mib_s(size, s) for s in ok_samples(v)) for n, v in res.items()}
    rows = ["| variant | MiB/s median (min–max) | CPU s | peak RSS MiB | byte-exact | after / before |",
            "|---|---|---|---|---|---|"]
    for n in names:
        good = ok_samples(res[n])
        exact = sum(1 for s in good if s.result.get("sha256") == sha)
        base = speed[n.partition("+")[0]]
        fail = failures(res[n])
        cpu = summarize(s.cpu_s for s in good).fmt(".2f")
        rss = summarize(s.maxrss_mb for s in good).fmt(".0f")
        rows.append(f"| {n} | {speed[n].fmt()}{' — ' + fail if fail else ''} | {cpu} | {rss} "
                    f"| {exact}/{len(good)} | {fmt_ratio(ratio(speed[n], base))} |")
    patches = ", ".join(f"`{k} = {v!r}`" for k, v in cfg.patch.items())
    rep.sections.append(
        f"## Experiment: {patches}\n\nThe same {cfg.big_mb} MiB throughput run with the module constants above "
        "set in the child before it connects (benchmark-only monkeypatch; collector's code is unchanged).\n\n"
        + "\n".join(rows)
    )


def parse_patch(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or "." not in name:
        raise ValueError(f"--patch wants MODULE.NAME=VALUE, got {text!r}")
    val: Any = value
    for conv in (int, float):
        try:
            val = conv(value)
            break
        except ValueError:
            continue
    return name.strip(), val


# -- static check: no fixed sleeps in the read path ---------------------------------------------------------------
READ_FUNCS = ("read", "_read", "recv", "run", "_reach_prompt", "resync", "enable", "feed")


def sleep_audit(rep: Report) -> None:
    """Every `sleep(` call in collector/session and collector/transports, with the function it sits in."""
    import ast

    found: list[tuple[str, int, str]] = []
    for sub in ("session", "transports"):
        for path in sorted((REPO / "collector" / sub).glob("*.py")):
            tree = ast.parse(path.read_text())
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(fn):
                    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                            "sleep", "_sleep"):
                        found.append((str(path.relative_to(REPO)), node.lineno, fn.name))
    found = sorted(set(found))
    in_read = [f for f in found if f[2] in READ_FUNCS]
    listing = ", ".join(f"`{p}:{n}` in `{fn}()`" for p, n, fn in found) or "none"
    rep.notes.append(f"Sleep audit (AST scan of collector/session and collector/transports): {listing}.")
    rep.budgets.append(Budget("No fixed sleeps in the read path (sleep calls inside read/recv/run functions)",
                              float(len(in_read)), 0.0, lower_is_better=True, unit=""))


