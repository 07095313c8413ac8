"""The scheduler daemon: jobs run at their time, survive a restart, missed runs follow the grace policy, the
--for cap and SIGTERM stop runs gracefully, secrets never reach the store; one real `collector run` on the simulator.

Most jobs launch a tiny fake run (writes a marker, prints the run's JSON) so the timing tests stay fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collector.errors import UsageError
from collector.schedule.daemon import SchedulerDaemon
from collector.schedule.executor import execute
from collector.schedule.jobs import Job, make_job
from collector.schedule.store import MISSED, Execution, ScheduleStore
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "cisco_ios" / "tac-baseline.yaml"
PW, EN = "sched-pw-93e1b7", DeviceProfile().enable_secret or "enable123"

FAKE_RUN = textwrap.dedent("""
    import hashlib, json, os, signal, sys, time
    marks = os.environ["FAKE_DIR"]
    os.makedirs(marks, exist_ok=True)
    def mark(kind, **extra):
        final = os.path.join(marks, f"{time.time_ns()}-{os.getpid()}-{kind}.json")
        with open(final + ".tmp", "w") as f:  # written whole, then renamed: a reader never sees half a mark
            json.dump(dict(kind=kind, t=time.time(), pid=os.getpid(), argv=sys.argv[1:], **extra), f)
        os.replace(final + ".tmp", final)
    def summary(status):
        print(json.dumps({"run_dir": os.path.join(marks, f"run-{os.getpid()}"), "status": status, "steps": []},
                         indent=2), flush=True)
    def on_term(signum, frame):
        mark("sigterm")
        summary("interrupted")
        sys.exit(130)
    signal.signal(signal.SIGTERM, on_term)
    pw = os.environ.get("FAKE_PW_VAR", "")
    mark("start", pw_sha=hashlib.sha256(os.environ.get(pw, "").encode()).hexdigest())
    deadline = time.monotonic() + float(os.environ.get("FAKE_SLEEP", "0"))
    while time.monotonic() < deadline:
        time.sleep(0.05)
    summary("completed")
    sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
""")


def wait_for(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def fake(tmp_path: Path) -> list[str]:
    script = tmp_path / "fake_run.py"
    script.write_text(FAKE_RUN)
    return [sys.executable, str(script)]


@pytest.fixture
def store(tmp_path: Path) -> ScheduleStore:
    return ScheduleStore(tmp_path / "schedule.db")


@pytest.fixture
def daemons() -> Iterator[Callable[..., SchedulerDaemon]]:
    started: list[SchedulerDaemon] = []

    def start(store: ScheduleStore, env: dict[str, str], **kw: Any) -> SchedulerDaemon:
        d = SchedulerDaemon(store, poll=0.2, stop_timeout=5, env=env, **kw)
        d.start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def fake_env(tmp: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, FAKE_DIR=str(tmp / "marks"), SCHED_PW=PW, FAKE_PW_VAR="SCHED_PW", **extra)


def marks(tmp: Path, kind: str) -> list[dict[str, Any]]:
    d = tmp / "marks"
    return [json.loads(p.read_text()) for p in sorted(d.glob(f"*-{kind}.json"))] if d.exists() else []


def finished(store: ScheduleStore, job: Job) -> list[Execution]:
    return [e for e in store.executions(job.id) if e.status not in ("running",)]


def new_job(tmp: Path, fake: list[str], **kw: Any) -> Job:
    return make_job(PLAYBOOK, "ssh://admin@127.0.0.1:2222", password_env="SCHED_PW", enable_env="SCHED_EN",
                    runs_dir=tmp / "runs", launcher=fake, **kw)


def store_bytes(store: ScheduleStore) -> bytes:
    return b"".join(p.read_bytes() for p in store.path.parent.glob(store.path.name + "*"))


def test_job_runs_at_its_time_with_references_not_secrets(tmp_path: Path, fake: list[str], store: ScheduleStore,
                                                        daemons: Callable[..., SchedulerDaemon]) -> None:
    at = datetime.now(UTC) + timedelta(seconds=1.5)
    job = new_job(tmp_path, fake, at=at.isoformat())
    store.add_job(job)
    daemons(store, fake_env(tmp_path))
    (ex,) = wait_for(lambda: finished(store, job), 10, "the execution record")
    assert ex.status == "ok" and ex.exit_code == 0 and ex.kind == "scheduled"
    assert ex.scheduled_for == pytest.approx(at.timestamp(), abs=1e-3)
    assert ex.started is not None and at.timestamp() <= ex.started < at.timestamp() + 3.0
    (start,) = marks(tmp_path, "start")
    assert start["t"] >= at.timestamp()
    assert ex.run_dir == str(tmp_path / "marks" / f"run-{start['pid']}") and ex.run_status == "completed"
    argv = start["argv"]
    assert argv[argv.index("--password-env") + 1] == "SCHED_PW" and "--json" in argv
    assert start["pw_sha"] == hashlib.sha256(PW.encode()).hexdigest()  # the value came from the environment
    assert PW.encode() not in store_bytes(store)
    assert store.next_run_times() == {}  # a one-shot job is done


def test_job_survives_a_scheduler_restart(tmp_path: Path, fake: list[str], store: ScheduleStore,
                                          daemons: Callable[..., SchedulerDaemon]) -> None:
    job = new_job(tmp_path, fake, every="1s")
    store.add_job(job)
    first = daemons(store, fake_env(tmp_path))
    wait_for(lambda: finished(store, job), 10, "a first execution")
    first.stop()
    assert job.id in store.next_run_times()  # the trigger is persisted in APScheduler's table
    stopped_at = time.time()
    assert [j.id for j in ScheduleStore(store.path).list_jobs()] == [job.id]
    daemons(ScheduleStore(store.path), fake_env(tmp_path))
    later = wait_for(lambda: [e for e in finished(store, job) if (e.started or 0) > stopped_at], 10,
                     "an execution by the second scheduler")
    assert later[0].status == "ok"
    assert all(e.status == "ok" for e in finished(store, job))


def test_missed_past_the_grace_window_is_recorded_not_run(tmp_path: Path, fake: list[str], store: ScheduleStore,
                                                          daemons: Callable[..., SchedulerDaemon]) -> None:
    # the scheduler was down since 3 h ago; the job fires hourly; grace 1 s: the coalesced fire is missed
    down_since = datetime.now(UTC) - timedelta(hours=3, minutes=5)
    job = new_job(tmp_path, fake, every="1h", grace="1s", now=down_since)
    store.add_job(job)
    daemons(store, fake_env(tmp_path))
    (missed,) = wait_for(lambda: finished(store, job), 10, "the missed record")
    assert missed.status == MISSED and missed.started is None and missed.exit_code is None
    expected = (down_since + timedelta(hours=3)).timestamp()  # the latest of the 3 missed fire times
    assert missed.scheduled_for == pytest.approx(expected, abs=1e-3)
    assert "grace window (1s)" in (missed.message or "")
    assert marks(tmp_path, "start") == []
    nxt = store.next_run_times()[job.id]
    assert nxt == pytest.approx(expected + 3600, abs=1e-3)  # the schedule continues


def test_missed_within_the_grace_window_runs_once_late(tmp_path: Path, fake: list[str], store: ScheduleStore,
                                                       daemons: Callable[..., SchedulerDaemon]) -> None:
    down_since = datetime.now(UTC) - timedelta(hours=3, minutes=5)
    job = new_job(tmp_path, fake, every="1h", grace="10m", now=down_since)  # three fire times missed
    at = datetime.now(UTC) - timedelta(seconds=30)
    once = new_job(tmp_path, fake, at=at.isoformat(), grace="10m", allow_past=True)
    store.add_job(job)
    store.add_job(once)
    daemons(store, fake_env(tmp_path))
    (late,) = wait_for(lambda: finished(store, job), 10, "the late run")
    (late_once,) = wait_for(lambda: finished(store, once), 10, "the late one-shot run")
    assert late.status == "ok" and late.scheduled_for == pytest.approx((down_since + timedelta(hours=3)).timestamp())
    assert late_once.status == "ok" and late_once.scheduled_for == pytest.approx(at.timestamp())
    assert (late.started or 0) - (late.scheduled_for or 0) > 60  # late, not on time
    assert len(marks(tmp_path, "start")) == 2  # coalesced: one run per job, not one per missed fire time


def test_for_cap_sends_sigterm_and_records_the_stop(tmp_path: Path, fake: list[str], store: ScheduleStore) -> None:
    job = new_job(tmp_path, fake, every="1h", for_="1s")
    store.add_job(job)
    t0 = time.monotonic()
    result = execute(job, store, kind="run-now", env=fake_env(tmp_path, FAKE_SLEEP="60"), stop_timeout=5)
    assert 1.0 <= time.monotonic() - t0 < 5
    assert result.status == "stopped-at-cap" and result.exit_code == 130 and result.stopped_by == "cap"
    assert len(marks(tmp_path, "sigterm")) == 1
    (ex,) = store.executions(job.id)
    assert ex.status == "stopped-at-cap" and ex.run_status == "interrupted" and "--for cap (1s)" in (ex.message or "")


def test_run_now_cli_runs_in_the_foreground_with_the_run_exit_code(tmp_path: Path, fake: list[str],
                                                                   store: ScheduleStore,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from collector.schedule.cli import app

    job = new_job(tmp_path, fake, cron="0 2 * * *")
    store.add_job(job)
    for k, v in fake_env(tmp_path, FAKE_EXIT="5").items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(app, ["run-now", job.id, "--store", str(store.path), "--json"])
    assert result.exit_code == 5, result.output
    assert json.loads(result.output.splitlines()[-1])["status"] == "step-errors"
    (ex,) = store.executions(job.id)
    assert ex.kind == "run-now" and ex.status == "step-errors" and ex.exit_code == 5


def test_sigterm_to_the_daemon_stops_the_running_job_and_exits_0(tmp_path: Path, fake: list[str],
                                                                 store: ScheduleStore) -> None:
    import socket

    job = new_job(tmp_path, fake, every="1s")
    store.add_job(job)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # systemd's Type=notify socket
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(10)
    env = fake_env(tmp_path, FAKE_SLEEP="60", NOTIFY_SOCKET=str(tmp_path / "notify.sock"))
    daemon = subprocess.Popen([sys.executable, "-m", "collector.schedule", "scheduler", "--store", str(store.path),
                               "--poll", "0.2s", "--stop-timeout", "10s"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        (start,) = wait_for(lambda: marks(tmp_path, "start"), 15, "the job to start")
        daemon.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        code = daemon.wait(timeout=8)
        elapsed = time.monotonic() - t0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        _, log = daemon.communicate(timeout=5)
    assert code == 0, log
    assert elapsed < 5, log
    with notify:
        assert [notify.recv(64), notify.recv(64)] == [b"READY=1", b"STOPPING=1"]
    (term,) = marks(tmp_path, "sigterm")
    assert term["pid"] == start["pid"]
    (ex,) = store.executions(job.id)
    assert ex.status == "interrupted" and ex.exit_code == 130 and ex.run_status == "interrupted"
    assert "scheduler stopping" in log and "scheduler stopped" in log


def test_real_collector_run_against_the_simulator(tmp_path: Path, store: ScheduleStore,
                                                  daemons: Callable[..., SchedulerDaemon]) -> None:
    profile = DeviceProfile(show_tech_bytes=256 << 10)
    with SimSSHServer(profile, users={"admin": PW}) as sim:
        at = datetime.now(UTC) + timedelta(seconds=1)
        job = make_job(PLAYBOOK, f"ssh://admin@127.0.0.1:{sim.port}", at=at.isoformat(), password_env="SCHED_PW",
                       enable_env="SCHED_EN", known_hosts=str(tmp_path / "kh"), accept_new_host_key=True,
                       no_ssh_config=True, runs_dir=tmp_path / "runs")
        store.add_job(job)
        daemons(store, dict(os.environ, SCHED_PW=PW, SCHED_EN=EN))
        (ex,) = wait_for(lambda: finished(store, job), 60, "the real run")
    assert ex.exit_code in (0, 5), ex.message
    assert ex.status in ("ok", "step-errors") and ex.run_dir
    run_dir = Path(ex.run_dir)
    assert run_dir.parent == tmp_path / "runs"
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == ex.run_status
    assert (run_dir / "steps" / "001-show-version.txt").stat().st_size > 0
    blob = store_bytes(store)
    assert PW.encode() not in blob and EN.encode() not in blob
    assert b"SCHED_PW" in blob


def test_jobs_added_and_removed_while_the_scheduler_runs(tmp_path: Path, fake: list[str], store: ScheduleStore,
                                                         daemons: Callable[..., SchedulerDaemon]) -> None:
    daemons(store, fake_env(tmp_path))
    later = new_job(tmp_path, fake, at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    soon = new_job(tmp_path, fake, at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat())
    store.add_job(later)
    store.add_job(soon)
    wait_for(lambda: later.id in store.next_run_times(), 5, "the scheduler to pick up the new job")
    assert store.remove_job(later.id)
    wait_for(lambda: later.id not in store.next_run_times(), 5, "the scheduler to drop the removed job")
    (ex,) = wait_for(lambda: finished(store, soon), 10, "the job added while running")
    assert ex.status == "ok"


def test_for_cap_stops_a_real_run_that_hangs_at_login(tmp_path: Path, store: ScheduleStore) -> None:
    import socket

    with socket.socket() as silent:  # accepts, never speaks: the run waits for the SSH banner
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        job = make_job(PLAYBOOK, f"ssh://admin@127.0.0.1:{silent.getsockname()[1]}", every="1h", for_="1s",
                       password_env="SCHED_PW", known_hosts=str(tmp_path / "kh"), no_ssh_config=True,
                       runs_dir=tmp_path / "runs")
        store.add_job(job)
        result = execute(job, store, kind="run-now", env=dict(os.environ, SCHED_PW=PW), stop_timeout=20)
    assert result.status == "stopped-at-cap" and result.exit_code == 130, result.message
    assert result.run_status == "interrupted" and result.run_dir
    assert json.loads((Path(result.run_dir) / "run.json").read_text())["status"] == "interrupted"


def test_one_scheduler_per_store(tmp_path: Path, store: ScheduleStore,
                                 daemons: Callable[..., SchedulerDaemon]) -> None:
    daemons(store, fake_env(tmp_path))
    other = subprocess.run([sys.executable, "-m", "collector.schedule", "scheduler", "--store", str(store.path)],
                           capture_output=True, text=True, timeout=30)
    assert other.returncode == 2 and f"another scheduler is running on {store.path} (pid {os.getpid()})" \
        in other.stderr
    with pytest.raises(UsageError, match="another scheduler"):
        SchedulerDaemon(ScheduleStore(store.path)).start()
