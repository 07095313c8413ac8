"""Distributed fleet faults with real workers and a real redis-server, devices on the real sshd: a worker SIGKILLed
mid-device (redelivered to the other worker of its queue; every device and step once), SIGTERM (finish, or hand
back past --stop-timeout), a step longer than the visibility timeout (never redelivered), redis-server restarted
mid-run (workers and submitter reconnect; nothing lost), and a broker that is not there at all."""

from __future__ import annotations

import hashlib
import json
import signal
import tarfile
from pathlib import Path

import pytest

from collector.store.journal import read_journal
from tests.helpers.fleet import collector, completed_steps, device_runs, load_json, write_csv
from tests.helpers.workers import Worker, statuses, submit, wait_until, workers
from tests.servers.ports import free_port
from tests.servers.redis import RedisServer, redis_server  # noqa: F401  (fixture)
from tests.servers.sshd import SshdServer

pytestmark = pytest.mark.servers
SEQ = (2000, 3000)


def seq_sha(n: int) -> str:
    return hashlib.sha256("".join(f"{i}\n" for i in range(1, n + 1)).encode()).hexdigest()


def setup(tmp: Path, sshd: SshdServer, queue: str, devices: int, sleep: float, cleanup: bool = False) -> list[str]:
    """A linux playbook (seq, sleep, seq) and an inventory of `devices` entries on the sshd account."""
    (tmp / "kh").write_text(sshd.known_hosts_line)
    body = f"  - command: seq {SEQ[0]}\n  - command: sleep {sleep:g}\n  - command: seq {SEQ[1]}\n"
    extra = "cleanup:\n  - command: echo cleanup-ran\n" if cleanup else ""
    (tmp / "pb.yaml").write_text(f"name: slow\nplatform: linux\ndefaults:\n  idle_timeout: 30s\nsteps:\n{body}{extra}")
    rows = [{"name": f"h{i}", "target": f"ssh://{sshd.account.name}@127.0.0.1:{sshd.port}",
             "password_env": "ACCOUNT_PW", "queue": queue} for i in range(1, devices + 1)]
    write_csv(tmp / "inv.csv", rows)
    return ["run", str(tmp / "pb.yaml"), "-i", str(tmp / "inv.csv"), "--known-hosts", str(tmp / "kh"),
            "--no-ssh-config", "--runs-dir", str(tmp / "runs"), "--json"]


def check_fleet(doc: dict[str, object], devices: int) -> dict[str, dict[str, object]]:
    """Every device ok, once; every step once with the right bytes."""
    by = {d["device"]: d for d in doc["devices"]}  # type: ignore[index, union-attr]
    assert sorted(by) == [f"h{i}" for i in range(1, devices + 1)]
    assert all(d["status"] == "ok" for d in by.values()), by
    runs = device_runs(Path(str(doc["fleet_dir"])))
    assert len(runs) == devices
    for run in runs.values():
        done = completed_steps(run)
        assert sorted(done) == [1, 2, 3] and all(len(v) == 1 for v in done.values()), run
        for step, n in ((1, SEQ[0]), (3, SEQ[1])):
            assert done[step][0]["sha256"] == seq_sha(n)
            assert hashlib.sha256((run / done[step][0]["file"]).read_bytes()).hexdigest() == seq_sha(n)
    return by


def running_on(url: str, fid_box: list[str], node: str) -> list[str]:
    if not fid_box:
        return []
    return sorted(d for d, s in statuses(url, fid_box[0]).items() if s.get("state") == "running"
                  and s.get("worker") == node)


def fleet_id_of(tmp: Path) -> list[str]:
    found = list((tmp / "runs").glob("fleet-*/fleet.json"))
    return [json.loads(found[0].read_text())["fleet_id"]] if found else []


def test_a_worker_killed_mid_device_is_replaced_by_another_of_its_queue(sshd: SshdServer,
                                                                          redis_server: RedisServer,  # noqa: F811
                                                                          tmp_path: Path) -> None:
    url = redis_server.url
    args = setup(tmp_path, sshd, "kill-q", 6, sleep=2)
    k1 = Worker("k1", url, "kill-q", tmp_path / "k1", tmp_path / "k1.log", extra=["-c", "2"])
    k2 = Worker("k2", url, "kill-q", tmp_path / "k2", tmp_path / "k2.log", extra=["-c", "2"])
    env = {"ACCOUNT_PW": sshd.account.password}
    with workers(k1, k2, env=env):
        proc = submit([*args, "--via", url, "--timeout", "180s", "--bundle", "--bundle-dir", str(tmp_path / "b")])
        victims = wait_until(lambda: running_on(url, fleet_id_of(tmp_path), k1.node), 60, "k1 runs a device")
        k1.kill()  # mid-device: its devices are in their `sleep 2` step or about to be
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    doc = load_json(out)
    by = check_fleet(doc, 6)
    for device in victims:
        assert by[device]["worker"] == k2.node, (device, by[device])  # redelivered to the other worker of kill-q
        assert f"device {device} of fleet" in k2.text()
    # the bundle has every device once
    with tarfile.open(doc["bundle"]) as tar:
        manifest = json.loads(tar.extractfile(next(m for m in tar if m.name.endswith("manifest.json"))).read())
    assert sorted(d["device"] for d in manifest["fleet"]["devices"]) == sorted(by)
    assert len(manifest["runs"]) == 6 and len({r["label"] for r in manifest["runs"]}) == 6
    events = list(read_journal(Path(doc["fleet_dir"]) / "journal.jsonl"))
    assert sorted(e["device"] for e in events if e["event"] == "device-finished") == sorted(by)


def test_with_a_shared_runs_directory_the_other_worker_resumes_the_killed_device(
        sshd: SshdServer, redis_server: RedisServer, tmp_path: Path) -> None:  # noqa: F811
    url = redis_server.url
    args = setup(tmp_path, sshd, "resume-q", 3, sleep=2)
    shared = tmp_path / "runs"  # the submitter's --runs-dir: both workers write into its fleet directory
    k1 = Worker("s1", url, "resume-q", shared, tmp_path / "s1.log", extra=["-c", "1"])
    k2 = Worker("s2", url, "resume-q", shared, tmp_path / "s2.log", extra=["-c", "1"])

    def mid_step() -> list[str]:  # a device of s1 with its first step done (the heartbeat publishes progress)
        fid = fleet_id_of(tmp_path)
        return [d for d, st in (statuses(url, fid[0]) if fid else {}).items() if st.get("worker") == k1.node
                and st.get("state") == "running" and st.get("steps_done", 0) >= 1]

    with workers(k1, k2, env={"ACCOUNT_PW": sshd.account.password}):
        proc = submit([*args, "--via", url, "--timeout", "120s"])
        (device,) = wait_until(mid_step, 60, "s1 in the middle of a device")
        k1.kill()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    doc = load_json(out)
    by = check_fleet(doc, 3)  # every step once: the first step was not collected again
    assert by[device]["worker"] == k2.node
    run = device_runs(Path(doc["fleet_dir"]))[device]
    events = [e["event"] for e in read_journal(run / "journal.jsonl")]
    assert events.count("run-started") == 1 and events.count("run-resumed") == 1  # resumed in place


def test_sigterm_finishes_the_running_device_then_stops(sshd: SshdServer, redis_server: RedisServer,  # noqa: F811
                                                        tmp_path: Path) -> None:
    url = redis_server.url
    args = setup(tmp_path, sshd, "term-q", 4, sleep=2)
    t1 = Worker("t1", url, "term-q", tmp_path / "t1", tmp_path / "t1.log", extra=["-c", "1", "--stop-timeout", "60s"])
    t2 = Worker("t2", url, "term-q", tmp_path / "t2", tmp_path / "t2.log", extra=["-c", "1"])
    with workers(t1, t2, env={"ACCOUNT_PW": sshd.account.password}):
        proc = submit([*args, "--via", url, "--timeout", "180s"])
        (device,) = wait_until(lambda: running_on(url, fleet_id_of(tmp_path), t1.node), 60, "t1 runs a device")
        assert t1.terminate(timeout=60) == 0
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    by = check_fleet(load_json(out), 4)
    assert by[device]["worker"] == t1.node  # it finished what it had started
    log = t1.text()
    assert "stopping (SIGTERM): finishing 1 running device(s)" in log
    assert log.index("stopping (SIGTERM)") < log.index(f"device {device} of fleet {fleet_id_of(tmp_path)[0]}: ok")


def test_sigterm_past_the_stop_timeout_hands_the_device_back(sshd: SshdServer,
                                                             redis_server: RedisServer,  # noqa: F811
                                                             tmp_path: Path) -> None:
    url = redis_server.url
    args = setup(tmp_path, sshd, "back-q", 1, sleep=3, cleanup=True)
    t1 = Worker("b1", url, "back-q", tmp_path / "b1", tmp_path / "b1.log", extra=["-c", "1", "--stop-timeout", "1s"])
    t2 = Worker("b2", url, "back-q", tmp_path / "b2", tmp_path / "b2.log", extra=["-c", "1"])
    with workers(t1, env={"ACCOUNT_PW": sshd.account.password}):
        proc = submit([*args, "--via", url, "--timeout", "180s"])
        (device,) = wait_until(lambda: running_on(url, fleet_id_of(tmp_path), t1.node), 60, "b1 runs a device")
        assert t1.terminate(timeout=60) == 0
        with workers(t2, env={"ACCOUNT_PW": sshd.account.password}):
            out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    by = check_fleet(load_json(out), 1)
    assert by[device]["worker"] == t2.node
    assert f"device {device} handed back to queue back-q" in t1.text()
    # on b1 the device was interrupted and cleaned up (its own run directory says so)
    (mine,) = (tmp_path / "b1").glob(f"fleet-*/devices/{device}/*")
    info = json.loads((mine / "run.json").read_text())
    assert info["status"] == "interrupted"
    cleanup = [e for e in read_journal(mine / "journal.jsonl") if e["event"] == "step-completed"
               and e.get("kind") == "cleanup"]
    assert cleanup and cleanup[0]["status"] == "ok"


def test_a_step_longer_than_the_visibility_timeout_is_not_redelivered(sshd: SshdServer,
                                                                      redis_server: RedisServer,  # noqa: F811
                                                                      tmp_path: Path) -> None:
    url = redis_server.url
    args = setup(tmp_path, sshd, "long-q", 1, sleep=7)  # the workers' visibility timeout is 4 s
    v1 = Worker("v1", url, "long-q", tmp_path / "v1", tmp_path / "v1.log")
    v2 = Worker("v2", url, "long-q", tmp_path / "v2", tmp_path / "v2.log")
    with workers(v1, v2, env={"ACCOUNT_PW": sshd.account.password}):
        done = collector(*args, "--via", url, "--timeout", "120s")
    assert done.returncode == 0, done.stderr
    doc = load_json(done.stdout)
    check_fleet(doc, 1)
    logs = v1.text() + v2.text()
    assert logs.count("device h1 of fleet") == 2  # started, ok: once
    assert "is being run by" not in logs and "finished already" not in logs
    assert doc["duplicates_discarded"] == 0


@pytest.mark.parametrize("wipe", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["persistent", "data-lost"])
def test_redis_restarted_mid_run_nothing_is_lost(sshd: SshdServer, redis_server: RedisServer,  # noqa: F811
                                                 tmp_path: Path, wipe: bool) -> None:
    url = redis_server.url
    args = setup(tmp_path, sshd, "restart-q", 4, sleep=2)
    r1 = Worker("r1", url, "restart-q", tmp_path / "r1", tmp_path / "r1.log", extra=["-c", "2"])
    r2 = Worker("r2", url, "restart-q", tmp_path / "r2", tmp_path / "r2.log", extra=["-c", "2"])
    with workers(r1, r2, env={"ACCOUNT_PW": sshd.account.password}):
        proc = submit([*args, "--via", url, "--timeout", "240s"])
        wait_until(lambda: running_on(url, fleet_id_of(tmp_path), r1.node), 60, "a device runs")
        redis_server.restart(down_for=2.0, wipe=wipe)
        out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    check_fleet(load_json(out), 4)
    assert f"broker {url} unreachable" in err and f"broker {url} reachable again" in err
    assert "unreachable" in r1.text() or "Cannot connect" in r1.text()
    if wipe:
        assert "the broker lost this fleet's state" in err


def test_a_job_the_broker_lost_is_sent_again(sshd: SshdServer, redis_server: RedisServer,  # noqa: F811
                                             tmp_path: Path) -> None:
    """A message can vanish in a broker restart (popped by a worker whose connection died): the submitter sees its
    queue empty while a device never started, and sends that job again."""
    import redis

    url = redis_server.url
    args = setup(tmp_path, sshd, "lost-q", 3, sleep=0)
    proc = submit([*args, "--via", url, "--timeout", "120s"])
    r = redis.Redis.from_url(url)
    wait_until(lambda: r.llen("lost-q") == 3, 60, "three jobs queued")
    assert r.rpop("lost-q")  # one job lost before any worker took it
    with workers(Worker("l1", url, "lost-q", tmp_path / "l1", tmp_path / "l1.log"),
                 env={"ACCOUNT_PW": sshd.account.password}):
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    check_fleet(load_json(out), 3)
    assert "queue lost-q is empty but 1 of its device(s) never started (jobs lost by the broker?)" in err


def test_ctrl_c_closes_the_fleet_and_resume_finishes_it_through_the_workers(
        sshd: SshdServer, redis_server: RedisServer, tmp_path: Path) -> None:  # noqa: F811
    url = redis_server.url
    args = setup(tmp_path, sshd, "resume-cc", 4, sleep=2, cleanup=True)
    w = Worker("c1", url, "resume-cc", tmp_path / "c1", tmp_path / "c1.log", extra=["-c", "2"])

    def mid_step() -> list[str]:
        fid = fleet_id_of(tmp_path)
        return [d for d, st in (statuses(url, fid[0]) if fid else {}).items()
                if st.get("state") == "running" and st.get("steps_done", 0) >= 1]

    with workers(w, env={"ACCOUNT_PW": sshd.account.password}):
        proc = submit([*args, "--via", url])
        wait_until(mid_step, 60, "devices in the middle of their run")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        first = load_json(out)
        statuses_then = {d["device"]: d["status"] for d in first["devices"]}
        assert "not-started" in statuses_then.values() and set(statuses_then.values()) - {"ok"}
        assert "closing the fleet" in err
        fleet = Path(first["fleet_dir"])
        done = collector("resume", str(fleet), "--json")  # the broker URL comes from fleet.json
    assert done.returncode == 0, done.stderr
    doc = load_json(done.stdout)
    check_fleet(doc, 4)
    resumed = next(e for e in read_journal(fleet / "journal.jsonl") if e["event"] == "fleet-resumed")
    assert sorted(resumed["to_run"]) == sorted(d for d, st in statuses_then.items() if st != "ok")


def test_a_broker_that_is_not_there_fails_cleanly(tmp_path: Path, sshd: SshdServer) -> None:
    args = setup(tmp_path, sshd, "none-q", 1, sleep=0)
    done = collector(*args, "--via", f"redis://127.0.0.1:{free_port()}/0", "--timeout", "3s")
    assert done.returncode == 24, done.stderr
    assert "cannot reach the broker redis://127.0.0.1:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_kill_sweep_one_worker_killed_at_a_random_moment(redis_server: RedisServer, tmp_path: Path,  # noqa: F811
                                                         seed: int) -> None:
    """The kill figure as a test: simulated devices, two workers, one SIGKILLed at a random moment; every device
    completes, once, every step once with the simulator's bytes (the default run keeps the sshd kill test)."""
    import random
    import time

    from collector.sim.events import EventLog
    from collector.sim.fleet import SimFleet
    from collector.sim.profile import DeviceProfile
    from tests.helpers.fleet import SIM_PASSWORD, check_device

    url = redis_server.url
    commands = ["show version", "show tech-support", "show clock"]
    rng = random.Random(seed)
    (tmp_path / "pb.yaml").write_text("name: sweep\nplatform: cisco_ios\ndefaults:\n  idle_timeout: 20s\nsteps:\n"
                                      + "".join(f"  - command: {c}\n" for c in commands))
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=1 << 20)
    with SimFleet(20, profile, users={"admin": SIM_PASSWORD}, events=EventLog()) as sims:
        write_csv(tmp_path / "inv.csv", [{"name": n, "target": f"ssh://admin@127.0.0.1:{p}", "platform": "ios",
                                          "password_env": "SIM_PW", "queue": "sweep"}
                                         for n, p in zip(sims.names, sims.ports, strict=True)])
        ws = [Worker(f"x{i}", url, "sweep", tmp_path / f"x{i}", tmp_path / f"x{i}.log", extra=["-c", "3"])
              for i in range(2)]
        with workers(*ws):
            proc = submit(["run", str(tmp_path / "pb.yaml"), "-i", str(tmp_path / "inv.csv"), "--via", url,
                           "--enable-env", "SIM_EN", "--known-hosts", str(tmp_path / "kh"), "--accept-new-host-key",
                           "--no-ssh-config", "--runs-dir", str(tmp_path / "runs"), "--json", "--timeout", "180s",
                           "--bundle", "--bundle-dir", str(tmp_path / "b")])
            time.sleep(rng.uniform(0.3, 3.0))  # the random moment is the experiment, not a wait for a condition
            rng.choice(ws).kill()
            out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    doc = load_json(out)
    assert [d["status"] for d in doc["devices"]] == ["ok"] * 20
    runs = device_runs(Path(doc["fleet_dir"]))
    for name in sims.names:
        check_device(runs[name.lower()], name, 1 << 20, commands)
    with tarfile.open(doc["bundle"]) as tar:
        manifest = json.loads(tar.extractfile(next(m for m in tar if m.name.endswith("manifest.json"))).read())
    names = [d["device"] for d in manifest["fleet"]["devices"]]
    assert len(names) == len(set(names)) == 20 and len(manifest["runs"]) == 20
