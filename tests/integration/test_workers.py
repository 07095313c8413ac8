"""Distributed fleets on real Celery workers (`collector worker` subprocesses) and a real redis-server: routing by
the inventory's `queue:`, a queue nobody serves (status and --timeout), secrets that never reach Redis, results
brought home through Redis or a shared runs directory, Celery's own tooling, and the real sshd as a device."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.sim.events import EventLog
from collector.sim.fleet import SimFleet
from collector.sim.profile import DeviceProfile
from tests.helpers.fleet import SIM_ENABLE, SIM_PASSWORD, check_device, collector, device_runs, load_json, write_csv
from tests.helpers.workers import (
    Monitor,
    Worker,
    dump_values,
    exposures,
    fleet_ids,
    statuses,
    submit,
    wait_until,
    workers,
)
from tests.servers.redis import RedisServer, redis_module  # noqa: F401  (fixture)
from tests.servers.sshd import SshdServer

TECH = 48 << 10
COMMANDS = ["show version", "show clock", "show ip interface brief", "show inventory", "show tech-support"]
pytestmark = pytest.mark.servers


def playbook(tmp: Path) -> Path:
    path = tmp / "remote-five.yaml"
    steps = "\n".join(f"  - command: {c}" for c in COMMANDS)
    path.write_text(f"name: remote-five\nplatform: cisco_ios\ndefaults:\n  idle_timeout: 20s\nsteps:\n{steps}\n"
                    "cleanup:\n  - command: terminal no monitor\n")
    return path


@pytest.fixture(scope="module")
def sims() -> Iterator[SimFleet]:
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=TECH)
    with SimFleet(6, profile, users={"admin": SIM_PASSWORD}, events=EventLog()) as fleet:
        yield fleet


def inventory(tmp: Path, sims: SimFleet, queue_of: dict[str, str | None]) -> Path:
    rows = []
    for name, port in zip(sims.names, sims.ports, strict=True):
        if name in queue_of:
            row = {"name": name, "target": f"ssh://admin@127.0.0.1:{port}", "platform": "ios",
                   "password_env": "SIM_PW", "queue": queue_of[name] or ""}
            rows.append(row)
    return write_csv(tmp / "inv.csv", rows)


def run_args(tmp: Path, inv: Path, url: str, *extra: str) -> list[str]:
    return ["run", str(playbook(tmp)), "-i", str(inv), "--via", url, "--enable-env", "SIM_EN", "--known-hosts",
            str(tmp / "kh"), "--accept-new-host-key", "--no-ssh-config", "--runs-dir", str(tmp / "runs"), "--json",
            *extra]


def test_each_device_goes_to_the_queue_its_inventory_names(sims: SimFleet, redis_module: RedisServer,  # noqa: F811
                                                           tmp_path: Path) -> None:
    url = redis_module.url
    queues = {"R1": "route-ams", "R2": "route-fra", "R3": "route-ams", "R4": "route-fra", "R5": "route-fra"}
    inv = inventory(tmp_path, sims, queues)
    ams = Worker("w-ams", url, "route-ams", tmp_path / "w-ams", tmp_path / "w-ams.log")
    fra = Worker("w-fra", url, "route-fra,route-other", tmp_path / "w-fra", tmp_path / "w-fra.log")
    with workers(ams, fra):
        done = collector(*run_args(tmp_path, inv, url, "--timeout", "120s", "--case", "698765432", "--bundle"))
    assert done.returncode == 0, done.stderr
    doc = load_json(done.stdout)
    by = {d["device"]: d for d in doc["devices"]}
    assert {d: by[d]["worker"] for d in by} == {d: ams.node if q == "route-ams" else fra.node
                                                for d, q in queues.items()}
    assert doc["duplicates_discarded"] == 0 and doc["via"] == url
    fleet = Path(doc["fleet_dir"])
    runs = device_runs(fleet)
    for name in queues:
        check_device(runs[name.lower()], name, TECH, COMMANDS)  # brought home intact: every step once, hashes equal
    # each worker kept its own copy: the submitter's came through Redis, not a shared directory
    assert {p.parent.name for p in (tmp_path / "w-ams").glob(f"{fleet.name}/devices/*/*")} == {"r1", "r3"}
    assert {p.parent.name for p in (tmp_path / "w-fra").glob(f"{fleet.name}/devices/*/*")} == {"r2", "r4", "r5"}
    assert not list(fleet.glob(".transfer-*")) and not list(fleet.glob("devices/*/.transfer-*"))
    # one verified bundle across devices, like a local fleet's
    bundle = Path(doc["bundle"])
    assert collector("verify", str(bundle)).returncode == 0
    with tarfile.open(bundle) as tar:
        manifest = json.loads(tar.extractfile(next(m for m in tar if m.name.endswith("manifest.json"))).read())
    assert [d["status"] for d in manifest["fleet"]["devices"]] == ["ok"] * 5
    assert len(manifest["runs"]) == 5
    # the journal names the worker of each device; status by id agrees after the end
    started = [json.loads(line) for line in (fleet / "journal.jsonl").read_text().splitlines()]
    assert {e["device"]: e["worker"] for e in started if e["event"] == "device-started"} == \
        {d: by[d]["worker"] for d in by}
    status = load_json(collector("fleet", "status", doc["fleet_id"], "--broker", url, "--json").stdout)
    assert {d["device"]: (d["state"], d["worker"]) for d in status["devices"]} == \
        {d: ("done", by[d]["worker"]) for d in by}


def test_a_queue_without_worker_is_reported_and_timeout_ends_the_wait(sims: SimFleet,
                                                                        redis_module: RedisServer,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    url = redis_module.url
    inv = inventory(tmp_path, sims, {"R1": "lonely-served", "R2": "lonely-nobody", "R3": "lonely-nobody"})
    before = set(fleet_ids(url))
    w = Worker("w-lonely", url, "lonely-served", tmp_path / "w", tmp_path / "w.log")
    with workers(w):
        proc = submit(run_args(tmp_path, inv, url, "--timeout", "6s"))
        try:
            fid = wait_until(lambda: (set(fleet_ids(url)) - before or {None}).pop(), 30, "the fleet registered")
            wait_until(lambda: statuses(url, fid).get("R1", {}).get("state") == "done", 60, "R1 done")
            # while the submitter waits, status shows who waits for which queue, and why
            shown = collector("fleet", "status", fid, "--broker", url, "--json")
            assert shown.returncode == 0, shown.stderr
            by = {d["device"]: d for d in load_json(shown.stdout)["devices"]}
            assert by["R2"]["state"] == by["R3"]["state"] == "queued"
            assert by["R2"]["why"] == "no live worker serves queue lonely-nobody"
            assert by["R1"]["state"] == "done" and by["R1"]["worker"] == w.node
            table = collector("fleet", "status", fid, "--broker", url)
            assert table.returncode == 0 and "queued" in table.stdout and f"live workers: {w.node} (lonely-served)" in \
                table.stdout
            out, err = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 6, err
    assert "queue lonely-nobody: no live worker serves it; 2 device(s) wait" in err
    doc = load_json(out)
    by = {d["device"]: d for d in doc["devices"]}
    assert by["R1"]["status"] == "ok"
    for name in ("R2", "R3"):
        assert by[name]["status"] == "not-started" and by[name]["exit_code"] == 24
        assert by[name]["error"] == "no worker served queue lonely-nobody before --timeout 6s passed"
    # the fleet is closed: a worker that comes later for that queue does not run its jobs
    status = load_json(collector("fleet", "status", doc["fleet_id"], "--broker", url, "--json").stdout)
    assert status["state"] == "closed" and status["closed_why"] == "timeout"
    late = Worker("w-late", url, "lonely-nobody", tmp_path / "late", tmp_path / "late.log")
    with workers(late):
        wait_until(lambda: "is closed: device R2 is not started" in late.text()
                   and "is closed: device R3 is not started" in late.text(), 30, "late worker drops the jobs")
    assert not list((tmp_path / "late").glob("fleet-*/devices/*/*"))


def test_secrets_never_reach_redis(sims: SimFleet, redis_module: RedisServer, tmp_path: Path) -> None:  # noqa: F811
    url = redis_module.url
    secrets = [SIM_PASSWORD.encode(), SIM_ENABLE.encode()]
    inv = inventory(tmp_path, sims, {"R1": "sec", "R2": "sec", "R3": "sec"})
    monitor = Monitor(redis_module.port)
    try:
        with workers(Worker("w-sec", url, "sec", tmp_path / "w", tmp_path / "w.log")):
            done = collector(*run_args(tmp_path, inv, url, "--timeout", "120s"))
            assert done.returncode == 0, done.stderr
    finally:
        monitor.close()
    sent = monitor.blobs()
    assert any(name == "RPUSH" for name, _ in sent), "the run transferred nothing through Redis?"
    assert any(b"collector.device" in blob for _, blob in sent)  # the job messages themselves were seen
    hits = [h for name, blob in sent for h in exposures(blob, secrets, name)]
    stored = dump_values(url)
    assert any(k.startswith("celery-task-meta-") for k in stored) and any(k.startswith("collector:") for k in stored)
    hits += [h for key, values in stored.items() for v in values for h in exposures(v, secrets, key)]
    assert hits == []
    # the scanner would have seen one: the same encodings with a secret planted
    body = json.dumps({"body": __import__("base64").b64encode(json.dumps([{"pw": SIM_PASSWORD}]).encode()).decode()})
    planted = [body.encode(), __import__("gzip").compress(b"x" * 100 + SIM_PASSWORD.encode())]
    assert all(exposures(p, secrets, "planted") for p in planted)
    # the worker resolved the password itself (from ITS environment) and its log never shows it
    log = (tmp_path / "w.log").read_text()
    assert "device R1 of fleet" in log and SIM_PASSWORD not in log


def test_a_shared_runs_directory_is_written_in_place(sims: SimFleet, redis_module: RedisServer,  # noqa: F811
                                                     tmp_path: Path) -> None:
    url = redis_module.url
    inv = inventory(tmp_path, sims, {"R4": "shared", "R5": "shared", "R6": "shared"})
    monitor = Monitor(redis_module.port)
    try:
        with workers(Worker("w-shared", url, "shared", tmp_path / "runs", tmp_path / "w.log")):
            done = collector(*run_args(tmp_path, inv, url, "--timeout", "120s"))
    finally:
        monitor.close()
    assert done.returncode == 0, done.stderr
    doc = load_json(done.stdout)
    runs = device_runs(Path(doc["fleet_dir"]))
    for name in ("R4", "R5", "R6"):
        check_device(runs[name.lower()], name, TECH, COMMANDS)
    assert not [c for c in monitor.commands if c and c[0].upper() == b"RPUSH" and b"collector:xfer:" in c[1]]
    assert "shared runs directory" in (tmp_path / "w.log").read_text()


def test_celery_inspect_works_on_the_app_and_the_worker_logs_to_stderr(redis_module: RedisServer,  # noqa: F811
                                                                       tmp_path: Path) -> None:
    url = redis_module.url
    w = Worker("w-inspect", url, "inspect-q", tmp_path / "w", tmp_path / "w.log", extra=["--concurrency", "3"])
    with workers(w):
        env = {**os.environ, "COLLECTOR_BROKER": url}
        ping = subprocess.run([sys.executable, "-m", "celery", "-A", "collector.workers.app", "inspect", "ping"],
                              capture_output=True, text=True, env=env, timeout=60, check=False)
        queues = subprocess.run([sys.executable, "-m", "celery", "-A", "collector.workers.app", "-b", url, "inspect",
                                 "active_queues", "--json"], capture_output=True, text=True, timeout=60, check=False)
        stats = subprocess.run([sys.executable, "-m", "celery", "-A", "collector.workers.app", "-b", url, "inspect",
                                "stats", "--json"], capture_output=True, text=True, timeout=60, check=False)
    assert ping.returncode == 0 and f"{w.node}: OK" in ping.stdout and "pong" in ping.stdout, ping.stderr
    assert [q["name"] for q in json.loads(queues.stdout)[w.node]] == ["inspect-q"]
    pool = json.loads(stats.stdout)[w.node]["pool"]
    assert pool["max-concurrency"] == 3 and pool["implementation"] == "celery.concurrency.thread:TaskPool"
    log = w.text()
    assert f"worker {w.node} ready: queues inspect-q, 3 device(s) at once" in log
    assert "stopping (SIGTERM)" in log  # stopped by the fixture with SIGTERM, said so on stderr


def test_the_real_sshd_as_a_device(sshd: SshdServer, redis_module: RedisServer, tmp_path: Path) -> None:  # noqa: F811
    url = redis_module.url
    user, pw = sshd.account.name, sshd.account.password
    (tmp_path / "kh").write_text(sshd.known_hosts_line)
    pb = tmp_path / "seq.yaml"
    pb.write_text("name: seq\nplatform: linux\ndefaults:\n  idle_timeout: 20s\nsteps:\n  - command: seq 3000\n"
                  "  - command: uname -s\n")
    inv = write_csv(tmp_path / "inv.csv", [
        {"name": "host-a", "target": f"ssh://{user}@127.0.0.1:{sshd.port}", "password_env": "ACCOUNT_PW",
         "queue": "sshd-q"},
        {"name": "host-b", "target": f"ssh://{user}@127.0.0.1:{sshd.port}", "password_env": "ACCOUNT_PW",
         "queue": "sshd-q"}])
    w = Worker("w-sshd", url, "sshd-q", tmp_path / "w", tmp_path / "w.log")
    with workers(w, env={"ACCOUNT_PW": pw}):  # the password is in the WORKER's environment only
        done = collector("run", str(pb), "-i", str(inv), "--via", url, "--known-hosts", str(tmp_path / "kh"),
                         "--no-ssh-config", "--runs-dir", str(tmp_path / "runs"), "--json", "--timeout", "120s",
                         env={"ACCOUNT_PW": ""})
    assert done.returncode == 0, done.stderr
    doc = load_json(done.stdout)
    for run in device_runs(Path(doc["fleet_dir"])).values():
        steps = sorted((run / "steps").glob("*.txt"))
        expected = "".join(f"{i}\n" for i in range(1, 3001)).encode()
        assert hashlib.sha256(steps[0].read_bytes()).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert pw not in w.text()


def test_refusals_before_anything_is_sent(sims: SimFleet, redis_module: RedisServer, tmp_path: Path) -> None:  # noqa: F811
    url = redis_module.url
    inv = inventory(tmp_path, sims, {"R1": "refuse"})
    asked = collector(*run_args(tmp_path, inv, url, "--ask-password"))
    assert asked.returncode == 2 and "--ask-password cannot be used with --via" in asked.stderr
    both = collector(*run_args(tmp_path, inv, url, "--workers", "4"))
    assert both.returncode == 2 and "--concurrency" in both.stderr
    bad = collector(*run_args(tmp_path, inv, "http://127.0.0.1:1/"))
    assert bad.returncode == 2 and "is not a Redis URL" in bad.stderr
    weird = inventory(tmp_path, sims, {"R1": "q with spaces"})
    refused = collector(*run_args(tmp_path, weird, url))
    assert refused.returncode == 2 and "queue 'q with spaces' of R1" in refused.stderr
    assert not (tmp_path / "runs").exists()


def test_a_library_playbook_on_devices_of_platform_auto(sims: SimFleet, redis_module: RedisServer,  # noqa: F811
                                                        tmp_path: Path) -> None:
    """Nothing is carried for a library name on a device of platform auto: the worker detects the platform and
    runs its own library's version of the playbook, recorded with its SHA-256 in the device's run."""
    url = redis_module.url
    rows = [{"name": name, "target": f"ssh://admin@127.0.0.1:{port}", "platform": "auto", "password_env": "SIM_PW",
             "queue": "auto-q"} for name, port in list(zip(sims.names, sims.ports, strict=True))[:2]]
    inv = write_csv(tmp_path / "inv.csv", rows)
    w = Worker("w-auto", url, "auto-q", tmp_path / "w-auto", tmp_path / "w-auto.log")
    with workers(w):
        done = collector("run", "tac/memory", "-i", str(inv), "--via", url, "--enable-env", "SIM_EN",
                         "--known-hosts", str(tmp_path / "kh"), "--accept-new-host-key", "--no-ssh-config",
                         "--runs-dir", str(tmp_path / "runs"), "--json", "--timeout", "120s")
    assert done.returncode == 0, done.stderr
    doc = load_json(done.stdout)
    assert [d["status"] for d in doc["devices"]] == ["ok", "ok"]
    for run_dir in device_runs(Path(doc["fleet_dir"])).values():
        info = json.loads((run_dir / "run.json").read_text())
        assert info["platform"] == "cisco_xe" and info["detection"]["reason"]  # the ISR profile says IOS XE
        path = Path(info["playbook"]["path"])
        assert path.parts[-3:] == ("cisco_ios", "tac", "memory.yaml")  # IOS-XE runs the IOS library
        assert info["playbook"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        steps = [json.loads(x) for x in (run_dir / "journal.jsonl").read_text().splitlines()]
        assert [e["command"] for e in steps if e["event"] == "step-completed"][:2] == [
            "show memory statistics", "show processes memory sorted"]
