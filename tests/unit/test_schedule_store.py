"""Schedule jobs and store: validation, credential references only, history rows, CLI add/list/remove/history."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collector.errors import UsageError
from collector.schedule.cli import app
from collector.schedule.executor import classify, parse_run_json
from collector.schedule.jobs import DEFAULT_GRACE, Job, make_job
from collector.schedule.store import LOST, MISSED, ScheduleStore

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "cisco_ios" / "tac-baseline.yaml"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def job_at(tmp: Path, name: str | None = None) -> Job:
    return make_job(PLAYBOOK, "ssh://admin@127.0.0.1:2222", at="2026-12-01T02:00+00:00", runs_dir=tmp / "runs",
                    now=NOW, name=name)


def test_job_holds_references_and_builds_the_run_command(tmp_path: Path) -> None:
    job = make_job(PLAYBOOK, "ssh://admin@r1", every="6h", for_="2h", password_env="R1_PW",
                   enable_command="pass show r1-enable", known_hosts=str(tmp_path / "kh"), runs_dir=tmp_path / "runs",
                   bundle=True, now=NOW)
    assert job.trigger == "every" and job.for_seconds == 7200 and job.grace_seconds == DEFAULT_GRACE
    assert job.first_run == (NOW + timedelta(hours=6)).timestamp()
    argv = job.argv()
    assert argv[:4] == [sys.executable, "-m", "collector", "run"]
    assert argv[4] == str(PLAYBOOK) and "--json" in argv and "--bundle" in argv
    assert argv[argv.index("--password-env") + 1] == "R1_PW"
    assert argv[argv.index("--enable-command") + 1] == "pass show r1-enable"
    assert argv[argv.index("--runs-dir") + 1] == str((tmp_path / "runs").resolve())
    assert job.workdir == str(tmp_path.resolve())
    assert job.describe_trigger() == "every 6h for 2h"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({}, "exactly one"),
    ({"at": "2026-12-01T02:00", "cron": "0 2 * * *"}, "exactly one"),
    ({"at": "2026-11-01T02:00+00:00"}, "in the past"),
    ({"at": "tomorrow"}, "not a date-time"),
    ({"cron": "0 25 * * *"}, "--cron"),
    ({"every": "0.5s"}, "shorter"),
    ({"every": "soon"}, "--every"),
    ({"every": "1h", "for_": "forever"}, "--for"),
    ({"every": "1h", "password_env": "hunter2!"}, "not an environment variable name"),
    ({"every": "1h", "password_command": "echo hunter2"}, "must fetch the secret"),
    ({"every": "1h", "enable_command": "/bin/printf s3cret"}, "must fetch the secret"),
    ({"every": "1h", "password_env": "A", "password_command": "pass x"}, "not both"),
])
def test_bad_jobs_are_refused(kwargs: dict[str, str], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        make_job(PLAYBOOK, "ssh://admin@r1", now=NOW, **kwargs)  # type: ignore[arg-type]


def test_password_in_the_target_url_is_refused() -> None:
    with pytest.raises(UsageError, match="password in the target URL"):
        make_job(PLAYBOOK, "ssh://admin:hunter2@r1", every="1h", now=NOW)


def test_cron_first_run_and_grace(tmp_path: Path) -> None:
    job = make_job(PLAYBOOK, "ssh://admin@r1", cron="0 2 * * *", grace="90s", now=NOW, runs_dir=tmp_path)
    first = datetime.fromtimestamp(job.first_run or 0, UTC)
    assert first > NOW and first - NOW <= timedelta(days=1) and job.grace_seconds == 90


def test_store_jobs_history_and_lookup(tmp_path: Path) -> None:
    store = ScheduleStore(tmp_path / "s.db")
    assert (tmp_path / "s.db").stat().st_mode & 0o777 == 0o600
    a, b = job_at(tmp_path, name="nightly"), job_at(tmp_path, name="other")
    store.add_job(a)
    store.add_job(b)
    assert [j.id for j in store.list_jobs()] == [a.id, b.id]
    assert store.get_job("nightly").id == a.id
    assert store.get_job(a.id[:6]).id == a.id
    with pytest.raises(UsageError, match="no scheduled job"):
        store.get_job("nope")
    ex = store.start_execution(a, "scheduled", 1000.0)
    assert [e.id for e in store.running(a.id)] == [ex]
    store.finish_execution(ex, "ok", 0, run_dir="/r/1", run_status="completed")
    store.record_event(a.id, MISSED, 2000.0, "not run")
    hist = store.executions(a.id)
    assert [(h.status, h.scheduled_for) for h in hist] == [(MISSED, 2000.0), ("ok", 1000.0)]
    assert hist[1].run_dir == "/r/1" and hist[1].exit_code == 0 and hist[1].ended is not None
    assert store.running(a.id) == []
    assert store.remove_job(a.id) and not store.remove_job(a.id)
    assert len(store.executions(a.id)) == 2  # history outlives the job


def test_rows_left_running_by_a_dead_process_become_lost(tmp_path: Path) -> None:
    store = ScheduleStore(tmp_path / "s.db")
    job = job_at(tmp_path)
    store.add_job(job)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    ex = store.start_execution(job, "scheduled", None, pid=int(dead.stdout))
    live = store.start_execution(job, "scheduled", None)
    assert store.reap_stale() == 1
    status = {e.id: e.status for e in store.executions()}
    assert status == {ex: LOST, live: "running"}


@pytest.mark.parametrize(("code", "stopped", "status"), [
    (0, None, "ok"), (5, None, "step-errors"), (130, None, "interrupted"), (23, None, "cleanup-pending"),
    (13, None, "failed"), (130, "cap", "stopped-at-cap"), (130, "stop", "interrupted"), (-9, None, "killed"),
    (None, None, "failed"),
])
def test_classify(code: int | None, stopped: str | None, status: str) -> None:
    assert classify(code, stopped) == status


def test_parse_run_json_takes_the_run_summary_before_a_bundle_line() -> None:
    text = json.dumps({"run_dir": "/r", "status": "completed"}, indent=2) + "\n" + json.dumps({"bundle": "/b"})
    assert parse_run_json(text) == {"run_dir": "/r", "status": "completed"}
    assert parse_run_json("Traceback ...") is None


# -- CLI -------------------------------------------------------------------------------------------
def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_add_list_history_remove_and_no_secret_in_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) \
        -> None:
    monkeypatch.setenv("UT_PW", "pw-value-7f3a9")
    monkeypatch.setenv("UT_EN", "en-value-41c2e")
    db = str(tmp_path / "s.db")
    code, text = cli("add", str(PLAYBOOK), "--target", "ssh://admin@r1", "--every", "6h", "--for", "2h",
                     "--password-env", "UT_PW", "--enable-env", "UT_EN", "--store", db, "--json",
                     "--runs-dir", str(tmp_path / "runs"))
    assert code == 0, text
    added = json.loads(text.splitlines()[0])
    code, text = cli("list", "--store", db, "--json")
    (row,) = json.loads(text)
    assert row["id"] == added["id"] and row["trigger"] == "every 6h for 2h" and row["last"] is None
    assert row["next_run"] == pytest.approx(added["next_run"])
    code, text = cli("list", "--store", db)
    assert code == 0 and added["id"] in text
    code, text = cli("history", added["id"], "--store", db, "--json")
    assert code == 0 and json.loads(text) == []
    store = ScheduleStore(db)
    job = store.get_job(added["id"])
    ex = store.start_execution(job, "scheduled", 1000.0)
    store.finish_execution(ex, "step-errors", 5, run_dir="/runs/r1", run_status="completed-with-errors")
    store.record_event(job.id, MISSED, 2000.0, "not run: past the grace window")
    code, text = cli("history", "--store", db)
    assert code == 0 and "/runs/r1" in text and "step-errors" in text and "missed" in text
    code, text = cli("list", "--store", db)
    assert code == 0 and "missed" in text  # the last result
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert b"UT_PW" in blob and b"pw-value-7f3a9" not in blob and b"en-value-41c2e" not in blob
    assert cli("remove", added["id"], "--store", db)[0] == 0
    assert json.loads(cli("list", "--store", db, "--json")[1]) == []
    assert cli("remove", added["id"], "--store", db)[0] == 2


def test_cli_has_no_password_flag_and_validates_the_playbook(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    code, _ = cli("add", str(PLAYBOOK), "--target", "ssh://admin@r1", "--every", "1h", "--password", "x",
                  "--store", db)
    assert code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nplatform: cisco_ios\nsteps:\n  - command: configure terminal\n")
    code, text = cli("add", str(bad), "--target", "ssh://admin@r1", "--every", "1h", "--store", db)
    assert code == 4, text  # refused by the read-only guard, nothing stored
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nplatform: cisco_ios\nsteps:\n  - comand: show version\n")
    code, text = cli("add", str(broken), "--target", "ssh://admin@r1", "--every", "1h", "--store", db)
    assert code == 3, text
    assert ScheduleStore(db).list_jobs() == []


def test_default_store_is_under_collector_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLECTOR_HOME", str(tmp_path / "home"))
    code, text = cli("add", str(PLAYBOOK), "--target", "ssh://admin@r1", "--cron", "0 2 * * *", "--json")
    assert code == 0, text
    assert json.loads(text.splitlines()[0])["store"] == str(tmp_path / "home" / "schedule.db")
    (job,) = ScheduleStore(tmp_path / "home" / "schedule.db").list_jobs()
    assert job.runs_dir == str(tmp_path / "home" / "runs")
    with sqlite3.connect(tmp_path / "home" / "schedule.db") as conn:
        assert conn.execute("SELECT count(*) FROM schedule_jobs").fetchone()[0] == 1
    assert os.environ["COLLECTOR_HOME"] == str(tmp_path / "home")


def test_mount_adds_schedule_and_scheduler_to_a_cli() -> None:
    import typer

    from collector.schedule.cli import mount

    root = typer.Typer()
    root.command()(lambda: None)
    mount(root)
    runner = CliRunner()
    assert runner.invoke(root, ["schedule", "--help"]).exit_code == 0
    helped = runner.invoke(root, ["scheduler", "--help"])
    assert helped.exit_code == 0 and "--stop-timeout" in helped.output
