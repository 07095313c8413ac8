"""Fleet benchmarks (issue 14): ratios and figures, not timed tests. `python -m benchmarks.fleet_bench [--quick]`

1. 100 "devices" (the same local sshd account, one inventory entry each) x 5 short commands at the same worker
   count: collector's fleet (every byte written ahead to disk) vs nornir + nornir_netmiko, runs interleaved.
2. Peak RSS of 100 concurrent sessions (each holds its session for a `sleep 2` step): the collector process.
3. 1,000 simulated devices (one simulator process, each device its own port and hostname): wall time, peak RSS.
4. 100 simulated devices, 10 random ones dropped mid-step by the fault proxy: all complete, every step once,
   every hash equal to the simulator's source.
Each tool run is a fresh child process that reports its own VmHWM; results go to benchmarks/RESULTS-fleet.md.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "RESULTS-fleet.md"
SHORT = ["echo fleet", "uname -s", "seq 20", "id -u", "cat /etc/hostname"]
IOS = ["show version", "show clock", "show ip interface brief", "show inventory", "show processes cpu"]
SIM_PW = "bench-pw-3141"
SIM_EN = "enable123"
PRELOAD = ["paramiko", "collector.runner.runner", "collector.fleet.session", "collector.fleet.inventory",
           "collector.fleet.plan", "collector.fleet.csv_inventory", "collector.transports.ssh", "collector.playbook",
           "collector.platforms", "collector.cli.fleet", "collector.fleet.view", "rich.table"]


def vm_hwm_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def process_cpu() -> float:
    """CPU seconds of this process so far (every thread; children not included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- children: one fresh process per tool run ------------------------------------------------------------------
def child_collector(job: dict[str, Any]) -> dict[str, Any]:
    import importlib

    from collector.cli import prepare_process

    prepare_process()  # as the collector command sets its process up (before paramiko is imported)
    from collector.cli.main import app_for

    for name in PRELOAD:  # imported before the clock starts, as nornir's and netmiko's are
        importlib.import_module(name)

    argv = ["run", job["playbook"], "--inventory", job["inventory"], "--runs-dir", job["runs"], "--workers",
            str(job["workers"]), "--logins-per-host", str(job.get("logins", job["workers"])), "--json",
            "--no-ssh-config", "--known-hosts", job["known_hosts"], *job.get("extra", [])]
    buf = io.StringIO()
    start, cpu = time.perf_counter(), process_cpu()
    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
        app_for(["collector", *argv])(argv, standalone_mode=False)  # as the `collector` command builds it
    wall = time.perf_counter() - start
    doc = json.loads(buf.getvalue()) if buf.getvalue().strip().startswith("{") else {}
    return {"wall": wall, "cpu": process_cpu() - cpu, "startup_cpu": cpu, "rss_kib": vm_hwm_kib(),
            "status": doc.get("status"),
            "exit": doc.get("exit_code"),
            "counts": doc.get("counts"), "fleet_dir": doc.get("fleet_dir"), "bytes": doc.get("bytes")}


def child_nornir(job: dict[str, Any]) -> dict[str, Any]:
    from nornir import InitNornir
    from nornir_netmiko.tasks import netmiko_send_command

    def task(t: Any) -> None:
        for command in SHORT:
            t.run(task=netmiko_send_command, command_string=command)

    start, cpu = time.perf_counter(), process_cpu()
    nr = InitNornir(runner={"plugin": "threaded", "options": {"num_workers": job["workers"]}},
                    inventory={"plugin": "SimpleInventory", "options": {"host_file": job["hosts"]}},
                    logging={"enabled": False})
    result = nr.run(task=task)
    nr.close_connections()
    wall = time.perf_counter() - start
    return {"wall": wall, "cpu": process_cpu() - cpu, "startup_cpu": cpu, "rss_kib": vm_hwm_kib(),
            "failed": len(result.failed_hosts),
            "hosts": len(result)}


def run_child(kind: str, job: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.fleet_bench", "child", kind, json.dumps(job)],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=1800,
                          check=False)
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if not line.startswith("{"):
        raise RuntimeError(f"{kind} child failed: {done.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(line)
    return out


# -- setups ----------------------------------------------------------------------------------------------------
def sshd_inventories(host: Any, tmp: Path, n: int) -> tuple[Path, Path]:
    """The same account as n devices: collector CSV and nornir hosts.yaml (key login, known_hosts checked)."""
    csv_path = tmp / "fleet.csv"
    rows = ["name,target,platform,key_file"]
    rows += [f"d{i:03d},ssh://{host.user}@{host.host}:{host.port},linux,{host.key_path}" for i in range(n)]
    csv_path.write_text("\n".join(rows) + "\n")
    hosts = tmp / "hosts.yaml"
    hosts.write_text("".join(
        f"d{i:03d}:\n  hostname: {host.host}\n  port: {host.port}\n  username: {host.user}\n  platform: linux\n"
        f"  connection_options:\n    netmiko:\n      extras:\n        key_file: {host.key_path}\n"
        f"        use_keys: true\n        allow_agent: false\n        ssh_config_file: null\n" for i in range(n)))
    return csv_path, hosts


def playbook(tmp: Path, name: str, platform: str, commands: list[str]) -> Path:
    path = tmp / f"{name}.yaml"
    body = "\n".join(f"  - command: {json.dumps(c)}" for c in commands)
    path.write_text(f"name: {name}\nplatform: {platform}\ndefaults:\n  idle_timeout: 60s\nsteps:\n{body}\n")
    return path


def machine_cpu() -> float:
    """CPU seconds all processes of the machine have used (user + nice + system, from /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return (int(fields[1]) + int(fields[2]) + int(fields[3])) / os.sysconf("SC_CLK_TCK")


def bench_vs_nornir(host: Any, tmp: Path, workers: int, rounds: int) -> dict[str, Any]:
    csv_path, hosts = sshd_inventories(host, tmp, 100)
    pb = playbook(tmp, "short5", "linux", SHORT)
    walls: dict[str, list[float]] = {"collector": [], "nornir": []}
    cpus: dict[str, list[float]] = {"collector": [], "nornir": []}
    busy: dict[str, list[float]] = {"collector": [], "nornir": []}  # cores in use over the child's life
    others: dict[str, list[float]] = {"collector": [], "nornir": []}  # CPU s of every other process (sshd)
    rss: dict[str, list[int]] = {"collector": [], "nornir": []}
    for r in range(rounds):
        order = ["collector", "nornir"] if r % 2 == 0 else ["nornir", "collector"]
        for kind in order:
            before, started = machine_cpu(), time.perf_counter()
            if kind == "collector":
                res = run_child("collector", {"playbook": str(pb), "inventory": str(csv_path), "workers": workers,
                                              "runs": str(tmp / f"runs-{r}"), "known_hosts": host.known_hosts})
                assert res["exit"] == 0, res
            else:
                res = run_child("nornir", {"hosts": str(hosts), "workers": workers})
                assert res["failed"] == 0, res
            used = machine_cpu() - before
            busy[kind].append(used / (time.perf_counter() - started))
            others[kind].append(max(0.0, used - res["cpu"] - res["startup_cpu"]))
            walls[kind].append(res["wall"])
            cpus[kind].append(res["cpu"])
            rss[kind].append(res["rss_kib"])
    med = {k: statistics.median(v) for k, v in walls.items()}
    return {"workers": workers, "walls": walls, "median": med, "ratio": med["collector"] / med["nornir"],
            "cpu": {k: statistics.median(v) for k, v in cpus.items()},
            "busy": {k: statistics.median(v) for k, v in busy.items()},
            "others": {k: statistics.median(v) for k, v in others.items()},
            "rss_mib": {k: max(v) / 1024 for k, v in rss.items()}}


def bench_memory(host: Any, tmp: Path) -> dict[str, Any]:
    csv_path, _ = sshd_inventories(host, tmp, 100)
    pb = playbook(tmp, "hold", "linux", ["echo start", "sleep 2", "echo end"])
    res = run_child("collector", {"playbook": str(pb), "inventory": str(csv_path), "workers": 100, "logins": 64,
                                  "runs": str(tmp / "runs-mem"), "known_hosts": host.known_hosts})
    assert res["exit"] == 0, res
    return {"wall": res["wall"], "rss_mib": res["rss_kib"] / 1024}


class SimProcess:
    """`collector sim ssh --devices N --inventory FILE` as its own process."""

    def __init__(self, n: int, tmp: Path) -> None:
        self.inventory = tmp / f"sim-{n}.csv"
        env = {**os.environ, "SIM_PW": SIM_PW}
        self.proc = subprocess.Popen([sys.executable, "-m", "collector", "sim", "ssh", "--devices", str(n),
                                      "--password-env", "SIM_PW", "--inventory", str(self.inventory),
                                      "--show-tech-mb", "1"], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("inventory "):
                break
        with self.inventory.open() as fh:
            self.ports = [int(row["target"].rsplit(":", 1)[1]) for row in csv.DictReader(fh)]

    def rss_mib(self) -> float:
        return vm_hwm_kib(self.proc.pid) / 1024

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def bench_sim(tmp: Path, n: int, workers: int) -> dict[str, Any]:
    sim = SimProcess(n, tmp)
    try:
        pb = playbook(tmp, "ios5", "cisco_ios", IOS)
        res = run_child("collector", {"playbook": str(pb), "inventory": str(sim.inventory), "workers": workers,
                                      "logins": workers, "runs": str(tmp / f"runs-sim{n}"),
                                      "known_hosts": str(tmp / f"kh{n}"),
                                      "extra": ["--accept-new-host-key", "--enable-env", "SIM_EN"]},
                        env={"SIM_PW": SIM_PW, "SIM_EN": SIM_EN})
        sim_rss = sim.rss_mib()
    finally:
        sim.stop()
    return {"devices": n, "workers": workers, "wall": res["wall"], "rss_mib": res["rss_kib"] / 1024,
            "sim_rss_mib": sim_rss, "counts": res["counts"], "exit": res["exit"]}


def bench_faults(tmp: Path, n: int = 100, dropped: int = 10) -> dict[str, Any]:
    from collector.sim.device import SimDevice
    from collector.sim.profile import DeviceProfile
    from collector.store.journal import read_journal
    from tests.servers.fault_proxy import DOWN, FaultProxy

    sim = SimProcess(n, tmp)
    proxies = [FaultProxy("127.0.0.1", p).start() for p in sim.ports]
    try:
        rng = random.Random(1414)
        victims = rng.sample(range(n), dropped)
        for i in victims:
            proxies[i].cut_after_bytes(rng.randint(100_000, 900_000), direction=DOWN)
        inv = tmp / "faults.csv"
        text = sim.inventory.read_text()
        for p, proxy in zip(sim.ports, proxies, strict=True):
            text = text.replace(f":{p},", f":{proxy.port},")
        inv.write_text(text)
        pb = playbook(tmp, "faults", "cisco_ios", ["show version", "show tech-support", "show clock"])
        res = run_child("collector", {"playbook": str(pb), "inventory": str(inv), "workers": 20, "logins": 20,
                                      "runs": str(tmp / "runs-faults"), "known_hosts": str(tmp / "khf"),
                                      "extra": ["--accept-new-host-key", "--enable-env", "SIM_EN"]},
                        env={"SIM_PW": SIM_PW, "SIM_EN": SIM_EN})
        fired = sum(p.faults for p in proxies)
    finally:
        for fault_proxy in proxies:
            fault_proxy.stop()
        sim.stop()
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=1 << 20)
    once = equal = 0
    for run_json in Path(res["fleet_dir"]).glob("devices/*/*/run.json"):
        run_dir = run_json.parent
        name = run_dir.parent.name.upper()
        dev = SimDevice(profile.model_copy(update={"hostname": name}))
        recs = [e for e in read_journal(run_dir / "journal.jsonl") if e["event"] == "step-completed"]
        once += sorted(e["step"] for e in recs) == [1, 2, 3]
        equal += all(hashlib.sha256((run_dir / e["file"]).read_bytes()).hexdigest() == e["sha256"] ==
                     hashlib.sha256(b"".join(dev.expected_output(e["command"]))).hexdigest() for e in recs)
    return {"devices": n, "dropped": dropped, "faults_fired": fired, "completed": res["counts"],
            "every_step_once": once, "hashes_equal": equal, "wall": res["wall"], "exit": res["exit"]}


def report(r: dict[str, Any]) -> str:
    lines = ["# Fleet benchmarks (issue 14)", "", f"Generated by `python -m benchmarks.fleet_bench` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs.", ""]
    for v in r["vs_nornir"]:
        lines += [f"## 100 devices x 5 short commands, {v['workers']} workers (local sshd, one account)", "",
                  "| tool | wall s median (runs) | its own CPU s (median) | machine busy, of 2 cores "
                  "(median) | peak RSS MiB |", "|---|---|---|---|---|"]
        for k in ("collector", "nornir"):
            runs = ", ".join(f"{w:.2f}" for w in v["walls"][k])
            lines.append(f"| {k} | {v['median'][k]:.2f} ({runs}) | {v['cpu'][k]:.2f} | "
                         f"{v['busy'][k]:.2f} | {v['rss_mib'][k]:.0f} |")
        lines += ["", f"collector / nornir+netmiko wall time: **{v['ratio']:.2f}x** (target <= 0.5x)", ""]
    lines += _reading(r["vs_nornir"])
    m = r["memory"]
    lines += ["## 100 concurrent sessions", "", f"collector process peak RSS **{m['rss_mib']:.0f} MiB** "
              f"(target <= 512 MiB, all processes: the fleet is one process), wall {m['wall']:.1f}s", ""]
    s = r["sim"]
    lines += [f"## {s['devices']} simulated devices ({s['workers']} workers)", "", f"wall **{s['wall']:.1f}s**, "
              f"collector peak RSS **{s['rss_mib']:.0f} MiB**, simulator process {s['sim_rss_mib']:.0f} MiB, "
              f"outcome {s['counts']} (exit {s['exit']})", ""]
    f = r["faults"]
    lines += [f"## {f['devices']} devices, {f['dropped']} dropped mid-step (fault proxy)", "",
              f"faults fired {f['faults_fired']}, outcome {f['completed']}, every step once on "
              f"{f['every_step_once']}/{f['devices']}, hashes equal on {f['hashes_equal']}/{f['devices']}, "
              f"wall {f['wall']:.1f}s", ""]
    return "\n".join(lines)


def _reading(runs: list[dict[str, Any]]) -> list[str]:
    """What the CPU columns say, from this run's numbers: how much of the machine the server side takes."""
    first = runs[0]
    cores = os.cpu_count() or 1
    server = first["others"]["collector"]
    return ["### Reading the numbers", "",
            "- Its own CPU is the tool process's while the clock runs (every thread; imports before). Machine "
            "busy is every process's CPU over the child's life, in cores.",
            f"- At {first['workers']} workers the machine is busy {first['busy']['collector']:.2f} of {cores} "
            f"cores during collector's run: the run is CPU-bound. The other processes (the sshd playing 100 "
            f"devices: a fork, a key exchange, a login and a shell each) used {server:.1f} CPU s, so on this "
            f"machine no client can finish in less than {server / cores:.2f} s plus half its own CPU; "
            f"0.5x nornir+netmiko is {first['median']['nornir'] / 2:.2f} s.",
            "- nornir+netmiko spend most of their wall time in netmiko's fixed delays, which more workers overlap; "
            "collector's wall time is its CPU plus the server's, sharing the same cores.", ""]


def main(argv: list[str]) -> int:
    if argv[:1] == ["child"]:
        job = json.loads(argv[2])
        print(json.dumps(child_collector(job) if argv[1] == "collector" else child_nornir(job)), flush=True)
        return 0
    quick = "--quick" in argv
    sys.path.insert(0, str(ROOT))
    from benchmarks.sshd_host import SshdHost

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as d, SshdHost() as host:
        tmp = Path(d)
        os.chmod(tmp, 0o755)
        results["vs_nornir"] = [bench_vs_nornir(host, tmp, w, 2 if quick else 4) for w in (20, 50)]
        results["memory"] = bench_memory(host, tmp)
    with tempfile.TemporaryDirectory(prefix="fleet-bench-sim-") as d:
        results["sim"] = bench_sim(Path(d), 200 if quick else 1000, 50)
    with tempfile.TemporaryDirectory(prefix="fleet-bench-faults-") as d:
        results["faults"] = bench_faults(Path(d))
    text = report(results)
    print(text)
    if not quick:
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
