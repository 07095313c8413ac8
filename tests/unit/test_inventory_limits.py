"""Bounded concurrency: at most N devices at once, at most N logins per endpoint and per AAA group, one call at a
time per modem/serial line; a stopping fleet starts nothing new; the verdict and exit codes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from collector.fleet import executor as executor_mod
from collector.fleet.device_run import JobContext
from collector.fleet.executor import Executor
from collector.fleet.fleetdir import FleetDir
from collector.fleet.job import DeviceJob, JobResult, PlaybookRef
from collector.fleet.journal import FleetJournal, fold
from collector.fleet.limits import Limits, endpoint, line_of
from collector.fleet.progress import Board
from collector.fleet.report import verdict

PB = PlaybookRef(name="p", path="/nonexistent/p.yaml", sha256="0" * 64)
WORK = 0.03  # what a fake device "does" (simulated work, not a wait for a condition)


def job(name: str, target: str = "ssh://192.0.2.1", **kw: object) -> DeviceJob:
    return DeviceJob(fleet_id="f", device=name, slug=name, target=target, platform="cisco_ios", playbook=PB,
                     line=line_of(target), **kw)  # type: ignore[arg-type]


class Tracker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    def enter(self, key: str) -> None:
        with self.lock:
            self.now[key] = self.now.get(key, 0) + 1
            self.peak[key] = max(self.peak.get(key, 0), self.now[key])

    def leave(self, key: str) -> None:
        with self.lock:
            self.now[key] -= 1


def run_fake(tmp_path: Path, jobs: list[DeviceJob], workers: int, monkeypatch: pytest.MonkeyPatch,
             stop_after: int | None = None) -> tuple[Executor, Tracker]:
    tracker = Tracker()
    done = [0]
    stop = threading.Event()

    def fake(j: DeviceJob, ctx: JobContext, observer: object = None) -> JobResult:
        keys = ["all"] + ([f"line:{j.line}"] if j.line else [])
        for k in keys:
            tracker.enter(k)
        time.sleep(WORK)
        for k in keys:
            tracker.leave(k)
        with tracker.lock:
            done[0] += 1
            if stop_after is not None and done[0] >= stop_after:
                stop.set()
        return JobResult(device=j.device, status="ok", exit_code=0, steps=1, steps_ok=1)

    monkeypatch.setattr(executor_mod, "run_job", fake)
    (tmp_path / "devices").mkdir(exist_ok=True)
    fleet = FleetDir(tmp_path)
    ex = Executor(jobs, JobContext(fleet), FleetJournal(fleet.journal_path), Board.of([j.device for j in jobs]),
                  workers=workers, stop=stop)
    ex.run()
    return ex, tracker


def test_workers_bound_and_one_call_at_a_time_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [job(f"r{i}") for i in range(12)]
    jobs += [job(f"m{i}", "modem:///dev/ttyS0?number=55512" + str(i)) for i in range(4)]
    jobs += [job(f"c{i}", "rfc2217://ts1:7001") for i in range(3)]
    ex, t = run_fake(tmp_path, jobs, 5, monkeypatch)
    assert len(ex.results) == len(jobs) and all(r.ok for r in ex.results.values())
    assert t.peak["all"] <= 5 and ex.peak_running <= 5
    assert t.peak["line:/dev/ttyS0"] == 1 and t.peak["line:rfc2217://ts1:7001"] == 1
    state = fold(tmp_path / "journal.jsonl")
    assert set(state.last) == {j.device for j in jobs} and not state.started


def test_a_stopping_fleet_starts_nothing_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [job(f"r{i}") for i in range(20)]
    ex, _ = run_fake(tmp_path, jobs, 2, monkeypatch, stop_after=3)
    statuses = [r.status for r in ex.results.values()]
    assert statuses.count("not-started") >= 10 and len(statuses) == 20


def test_login_limits_per_endpoint_and_aaa_group() -> None:
    limits = Limits(per_host=3, per_aaa=2)
    jobs = [job(f"j{i}", f"ssh://10.0.0.{i}", jumps=["ssh://ops@dmz:22"]) for i in range(10)]
    jobs += [job(f"a{i}", f"ssh://10.1.0.{i}", aaa="tacacs-ams") for i in range(8)]
    inside: dict[str, int] = {}
    peak: dict[str, int] = {}
    lock = threading.Lock()

    def login(j: DeviceJob) -> None:
        key = "jump" if j.jumps else "aaa"
        with limits.gate(j):
            with lock:
                inside[key] = inside.get(key, 0) + 1
                peak[key] = max(peak.get(key, 0), inside[key])
            time.sleep(WORK)
            with lock:
                inside[key] -= 1

    threads = [threading.Thread(target=login, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == {"jump": 3, "aaa": 2}
    assert limits.peak("host:dmz:22") == 3 and limits.peak("aaa:tacacs-ams") == 2
    assert endpoint(jobs[0]) == "dmz:22" and endpoint(job("x", "ssh://r1:2222")) == "r1:2222"


def test_a_login_waiting_for_its_slot_stops_with_the_fleet() -> None:
    stop = threading.Event()
    limits = Limits(per_host=1, stop=stop)
    j = job("r1")
    with limits.gate(j):
        stop.set()
        with pytest.raises(KeyboardInterrupt), limits.gate(job("r2")):
            pass


def r(name: str, status: str, code: int = 0) -> JobResult:
    return JobResult(device=name, status=status, exit_code=code, error=None if status == "ok" else "why " + name)


@pytest.mark.parametrize("results, interrupted, status, code", [
    ([r("a", "ok"), r("b", "ok")], False, "ok", 0),
    ([r("a", "ok"), r("b", "completed-with-errors", 5)], False, "step-errors", 5),
    ([r("a", "ok"), r("b", "failed-before-start", 13)], False, "some-failed", 6),
    ([r("a", "failed", 10), r("b", "failed-before-start", 13)], False, "none-ok", 7),
    ([r("a", "ok"), r("b", "cleanup-pending", 23)], False, "cleanup-pending", 23),
    ([r("a", "ok"), r("b", "interrupted", 130)], True, "interrupted", 130),
])
def test_verdict_exit_codes_name_the_failed_devices(results: list[JobResult], interrupted: bool, status: str,
                                                    code: int) -> None:
    v = verdict(results, interrupted)
    assert (v.status, v.exit_code) == (status, code)
    if status in ("some-failed", "none-ok"):
        assert v.error is not None and "b: failed-before-start (why b)" in v.error.message


def test_a_run_directory_made_just_before_a_crash_is_started_afresh(tmp_path: Path) -> None:
    """Killed after run.json and before the journal's first record (a raw chunk may already be open, empty): no
    journal means nothing was recorded; such a directory is started afresh, and bytes without a journal are set
    aside, never deleted, and never taken for the device's run."""
    from collector.fleet.device_run import _holds_data, _never_started

    run = tmp_path / "devices" / "r1" / "20261206T000000Z-r1-p"
    for sub in ("raw", "steps"):
        (run / sub).mkdir(parents=True)
    (run / "run.json").write_text("{}")
    assert _never_started(run) and not _holds_data(run)  # run.json only
    (run / "raw" / "000000.chunk").write_bytes(b"")  # the chunk file opened, nothing in it (the SIGKILL case)
    (run / "raw" / "masking.json").write_text('{"format": 1}')  # written when the raw stream opens: not data
    (run / "raw" / "index.jsonl").write_text("")
    assert _never_started(run) and not _holds_data(run)
    (run / "raw" / "000000.chunk").write_bytes(b"x")
    assert _never_started(run) and _holds_data(run)  # set aside by run_job, not deleted
    (run / "journal.jsonl").write_text("")
    assert not _never_started(run) and not _never_started(None)  # a journal: resume decides
    fleet = FleetDir(tmp_path)
    aside = run.with_name(run.name + ".no-journal")
    run.rename(aside)
    assert fleet.run_dir(job("r1")) is None  # a set-aside directory is never the device's run
