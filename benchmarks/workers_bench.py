"""Distributed fleet benchmarks (issue 15): ratios and figures, not timed tests.
`python -m benchmarks.workers_bench [--quick]` writes benchmarks/RESULTS-workers.md.

1. 200 simulated devices x 5 commands at the same total concurrency: the local fleet (`--workers C`) vs one
   `collector worker -c C` vs two workers `-c C/2`, runs interleaved (rotated order), medians and ratios.
2. Queue overhead per device: the same devices one at a time (`--workers 1` vs one worker `-c 1`): the difference
   in wall time per device is what the queue adds (publish, claim, seal, transfer, verify, import).
3. Kill figure: 10 runs, two workers on one queue, one SIGKILLed at a random moment in each: devices complete,
   duplicates in the bundle, every step once.
Devices: one `collector sim ssh --devices N` process; Redis: a real redis-server on a free loopback port.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.fleet_bench import IOS, ROOT, SIM_EN, SIM_PW, SimProcess, playbook

RESULTS = Path(__file__).resolve().parent / "RESULTS-workers.md"
ENV = {"SIM_PW": SIM_PW, "SIM_EN": SIM_EN}
PRELOAD = ["paramiko", "collector.runner.runner", "collector.fleet.session", "collector.fleet.inventory",
           "collector.fleet.plan", "collector.cli.fleet", "collector.fleet.view", "rich.table", "celery",
           "collector.workers.remote", "collector.cli.remote", "redis"]


# -- the submitter as a fresh child process, timed from inside (imports done before the clock starts) -----------
def child(job: dict[str, Any]) -> dict[str, Any]:
    import importlib

    from collector.cli.main import app

    for name in PRELOAD:
        importlib.import_module(name)
    buf = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        app(job["argv"], standalone_mode=False)
    wall = time.perf_counter() - start
    doc = json.loads(buf.getvalue()) if buf.getvalue().strip().startswith("{") else {}
    return {"wall": wall, "status": doc.get("status"), "exit": doc.get("exit_code"), "counts": doc.get("counts"),
            "fleet_dir": doc.get("fleet_dir"), "duplicates": doc.get("duplicates_discarded"),
            "fleet_id": doc.get("fleet_id"), "import_ms": doc.get("import_ms_median"),
            "workers": [d.get("worker") for d in doc.get("devices", [])]}


def run_child(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.workers_bench", "child", json.dumps({"argv": argv})],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=1800,
                          check=False)
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if not line.startswith("{"):
        raise RuntimeError(f"child failed: {done.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(line)
    return out


def fleet_argv(pb: Path, inv: Path, tmp: Path, tag: str, *extra: str) -> list[str]:
    return ["run", str(pb), "--inventory", str(inv), "--runs-dir", str(tmp / f"runs-{tag}"), "--json",
            # a known_hosts per run: each phase starts its own simulator (new host keys, ports that may repeat)
            "--no-ssh-config", "--known-hosts", str(tmp / f"kh-{tag}"), "--accept-new-host-key",
            "--enable-env", "SIM_EN", *extra]


def with_queue(src: Path, dst: Path, queue: str, first: int | None = None) -> Path:
    lines = src.read_text().splitlines()
    if first is not None:
        lines = lines[:first + 1]
    dst.write_text("\n".join([lines[0].strip() + ",queue"] + [ln.strip() + f",{queue}" for ln in lines[1:]]) + "\n")
    return dst


def workers(url: str, tmp: Path, queue: str, count: int, conc: int, tag: str, heartbeat: str = "1s",
            visibility: str = "60s") -> list[Any]:
    from tests.helpers.workers import Worker

    out = []
    for i in range(count):
        w = Worker(f"bench-{tag}-{i}", url, queue, tmp / f"w-{tag}-{i}", tmp / f"w-{tag}-{i}.log",
                   extra=["-c", str(conc), "--heartbeat", heartbeat, "--visibility-timeout", visibility])
        out.append(w.start(ENV))
    return out


# -- 1 and 2: throughput and overhead -----------------------------------------------------------------------------
def bench_throughput(tmp: Path, url: str, sim: SimProcess, devices: int, conc: int, rounds: int) -> dict[str, Any]:
    pb = playbook(tmp, "ios5", "cisco_ios", IOS)
    inv = with_queue(sim.inventory, tmp / "inv-q.csv", "bench")
    setups = {"local": (0, conc), "1 worker": (1, conc), "2 workers": (2, conc // 2)}
    walls: dict[str, list[float]] = {k: [] for k in setups}
    pool: dict[str, list[Any]] = {}
    try:
        for name, (count, c) in setups.items():
            if count:
                pool[name] = workers(url, tmp, f"bench-{count}", count, c, f"t{count}")
                warm = with_queue(sim.inventory, tmp / f"warm-{count}.csv", f"bench-{count}", first=c)
                run_child(fleet_argv(pb, warm, tmp, f"warm-{count}", "--via", url, "--timeout", "600s"))
        for r in range(rounds):
            order = list(setups)[r % 3:] + list(setups)[:r % 3]
            for name in order:
                count, c = setups[name]
                if count:
                    argv = fleet_argv(pb, with_queue(sim.inventory, tmp / f"inv-{count}.csv", f"bench-{count}"), tmp,
                                      f"{name[0]}-{r}", "--via", url, "--timeout", "600s")
                else:
                    argv = fleet_argv(pb, inv, tmp, f"l-{r}", "--workers", str(c), "--logins-per-host", str(c))
                res = run_child(argv, ENV if not count else None)
                assert res["exit"] == 0 and res["counts"] == {"ok": devices}, res
                walls[name].append(res["wall"])
    finally:
        for ws in pool.values():
            for w in ws:
                w.stop()
    med = {k: statistics.median(v) for k, v in walls.items()}
    return {"devices": devices, "concurrency": conc, "walls": walls, "median": med,
            "ratio": {k: med[k] / med["local"] for k in med},
            "overhead_ms": {k: (med[k] - med["local"]) / devices * 1000 for k in med if k != "local"}}


def worker_overhead_ms(url: str, fid: str) -> float:
    """Per job on a busy one-slot worker: time between two finished records that was not the device's run
    (Celery dispatch, claim, status, seal, transfer, record)."""
    import redis

    r = redis.Redis.from_url(url)
    try:
        recs = sorted((json.loads(v)["timing"] for v in r.hvals(f"collector:fleet:{fid}:done")),
                      key=lambda t: t["finished_at"])
    finally:
        r.close()
    gaps = [(b["finished_at"] - a["finished_at"]) * 1000 - b["run_ms"] for a, b in zip(recs, recs[1:], strict=False)]
    return statistics.median(gaps)


def bench_overhead(tmp: Path, url: str, sim: SimProcess, devices: int, rounds: int) -> dict[str, Any]:
    pb = playbook(tmp, "ios5", "cisco_ios", IOS)
    inv = with_queue(sim.inventory, tmp / "inv-seq.csv", "seq", first=devices)
    walls: dict[str, list[float]] = {"local": [], "worker": []}
    worker_ms: list[float] = []
    import_ms: list[float] = []
    (w,) = workers(url, tmp, "seq", 1, 1, "seq")
    try:
        run_child(fleet_argv(pb, with_queue(sim.inventory, tmp / "warm-seq.csv", "seq", first=3), tmp, "warm-seq",
                             "--via", url, "--timeout", "600s"))
        for r in range(rounds):
            for name in (["local", "worker"] if r % 2 == 0 else ["worker", "local"]):
                extra = ["--via", url, "--timeout", "900s"] if name == "worker" else ["--workers", "1"]
                res = run_child(fleet_argv(pb, inv, tmp, f"seq-{name}-{r}", *extra), ENV if name == "local" else None)
                assert res["exit"] == 0, res
                walls[name].append(res["wall"])
                if name == "worker":
                    worker_ms.append(worker_overhead_ms(url, res["fleet_id"]))
                    import_ms.append(res["import_ms"])
    finally:
        w.stop()
    med = {k: statistics.median(v) for k, v in walls.items()}
    n = sum(res["counts"].values())
    return {"devices": n, "walls": walls, "median": med, "end_to_end_ms": (med["worker"] - med["local"]) / n * 1000,
            "worker_ms": statistics.median(worker_ms), "import_ms": statistics.median(import_ms)}


# -- 3: the kill figure --------------------------------------------------------------------------------------------
def kill_run(tmp: Path, url: str, inv: Path, pb: Path, i: int, rng: random.Random) -> dict[str, Any]:
    from collector.store.journal import read_journal
    from tests.helpers.workers import submit

    tag = f"k{i}"
    ws = workers(url, tmp, f"kill-{i}", 2, 4, tag, heartbeat="0.5s", visibility="3s")
    proc = submit(fleet_argv(pb, with_queue(inv, tmp / f"inv-{tag}.csv", f"kill-{i}"), tmp, tag, "--via", url,
                             "--timeout", "600s", "--bundle", "--bundle-dir", str(tmp / f"b-{tag}")))
    victim = rng.choice(ws)
    at = rng.uniform(0.5, 4.0)
    time.sleep(at)  # the random moment is the experiment itself
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    out, err = proc.communicate(timeout=600)
    for w in ws:
        w.stop()
    doc = json.loads(out)
    fleet = Path(doc["fleet_dir"])
    with tarfile.open(doc["bundle"]) as tar:
        member = tar.extractfile(next(m for m in tar if m.name.endswith("manifest.json")))
        assert member is not None
        manifest = json.loads(member.read())
    names = [d["device"] for d in manifest["fleet"]["devices"]]
    runs_per_device = [len([p for p in d.iterdir() if p.is_dir()]) for d in (fleet / "devices").iterdir()]
    steps_once = 0
    for run in fleet.glob("devices/*/*/journal.jsonl"):
        steps = [e["step"] for e in read_journal(run) if e["event"] == "step-completed" and e.get("kind") == "show"]
        steps_once += sorted(steps) == list(range(1, 4))
    return {"killed_at": round(at, 2), "exit": proc.returncode, "ok": doc["counts"].get("ok", 0),
            "devices": len(doc["devices"]), "bundle_devices": len(names), "bundle_runs": len(manifest["runs"]),
            "duplicates_in_bundle": len(names) - len(set(names)) + max(0, len(manifest["runs"]) - len(set(names))),
            "runs_per_device_max": max(runs_per_device), "steps_once": steps_once,
            "discarded": doc.get("duplicates_discarded"),
            "victim_devices": sum(1 for d in doc["devices"] if d.get("worker") == victim.node),
            "failed": [f"{d.get('device')}: {d.get('status')} ({d.get('error')})" for d in doc["devices"]
                       if d.get("status") != "ok"]}


def bench_kill(tmp: Path, url: str, runs: int, devices: int) -> list[dict[str, Any]]:
    sim = SimProcess(devices, tmp)
    try:
        pb = playbook(tmp, "kill3", "cisco_ios", ["show version", "show tech-support", "show clock"])
        rng = random.Random(1515)
        return [kill_run(tmp, url, sim.inventory, pb, i, rng) for i in range(runs)]
    finally:
        sim.stop()


def report(r: dict[str, Any]) -> str:
    t = r["throughput"]
    lines = ["# Distributed fleet benchmarks (issue 15)", "", f"Generated by `python -m benchmarks.workers_bench` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs; redis-server "
             "on loopback, workers on this machine.", "",
             f"## {t['devices']} simulated devices x 5 commands, total concurrency {t['concurrency']}", "",
             "| setup | wall s median (runs) | / local | extra wall per device |", "|---|---|---|---|"]
    for k, v in t["walls"].items():
        runs = ", ".join(f"{w:.2f}" for w in v)
        over = f"{t['overhead_ms'][k]:.1f} ms" if k in t["overhead_ms"] else "-"
        lines.append(f"| {k} | {t['median'][k]:.2f} ({runs}) | {t['ratio'][k]:.2f}x | {over} |")
    o = r["overhead"]
    lines += ["", "Extra wall per device = (wall - local wall) / devices, the same total concurrency; the workers, "
              "the submitter, redis-server and the simulator share this machine's two cores.", "",
              f"## Queue overhead per device, one at a time ({o['devices']} devices)", "",
              "| setup | wall s median (runs) |", "|---|---|"]
    for k, v in o["walls"].items():
        lines.append(f"| {k} | {o['median'][k]:.2f} ({', '.join(f'{w:.2f}' for w in v)}) |")
    queue = o["worker_ms"] + o["import_ms"]
    lines += ["", f"Queue overhead per device: **{queue:.1f} ms** (target <= 20 ms) = {o['worker_ms']:.1f} ms on the "
              "worker between two devices that is not the device's run (Celery dispatch, claim, status, seal, "
              f"transfer, record; median) + {o['import_ms']:.1f} ms on the submitter to verify, unpack and place the "
              f"run (median). End to end, the wall-time difference is {o['end_to_end_ms']:.1f} ms per device: on "
              "this 2-core machine the submitter, the worker, redis-server and the simulated devices share the "
              "two cores, so the extra process's CPU shows in the wall time of a run that is CPU-bound.", ""]
    k = r["kill"]
    total = sum(x["devices"] for x in k)
    ok = sum(x["ok"] for x in k)
    dup = sum(x["duplicates_in_bundle"] for x in k)
    lines += [f"## Kill figure: {len(k)} runs, {k[0]['devices']} devices each, one of two workers SIGKILLed", "",
              f"devices complete **{100 * ok / total:.0f} %** ({ok}/{total}), duplicates in the bundles **{dup}**, "
              f"every step once on {sum(x['steps_once'] for x in k)}/{total} device runs, at most "
              f"{max(x['runs_per_device_max'] for x in k)} run directory per device in the fleet directory.", "",
              "| run | killed at s | exit | ok | bundle runs | later duplicates discarded |",
              "|---|---|---|---|---|---|"]
    for i, x in enumerate(k):
        lines.append(f"| {i} | {x['killed_at']} | {x['exit']} | {x['ok']}/{x['devices']} | {x['bundle_runs']} | "
                     f"{x['discarded']} |")
    failed = [f for x in k for f in x.get("failed", [])]
    if failed:
        lines += ["", "Devices that did not complete:", "", *(f"- {f}" for f in failed)]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["child"]:
        print(json.dumps(child(json.loads(argv[1]))))
        return 0
    quick = "--quick" in argv
    from tests.servers.redis import start_redis

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as d:
        tmp = Path(d)
        redis = start_redis()
        try:
            devices = 40 if quick else 200
            sim = SimProcess(devices, tmp)
            try:
                results["throughput"] = bench_throughput(tmp, redis.url, sim, devices, 20, 1 if quick else 3)
                results["overhead"] = bench_overhead(tmp, redis.url, sim, 20 if quick else 100, 1 if quick else 2)
            finally:
                sim.stop()
            results["kill"] = bench_kill(tmp, redis.url, 2 if quick else 10, 40)
        finally:
            redis.cleanup()
    text = report(results)
    print(text)
    if not quick:
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
