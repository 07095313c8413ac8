"""The schedule store: one SQLite file with job definitions, execution history, missed runs and APScheduler's table.

Tables: `schedule_jobs` (JSON definitions, credential references only), `schedule_executions` (one row per run,
missed or skipped fire) and `apscheduler_jobs` (APScheduler 3.x SQLAlchemyJobStore: triggers and next run times).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError, UsageError
from .jobs import Job

APS_TABLE = "apscheduler_jobs"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    registered INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_executions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    job_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_for REAL,
    started REAL,
    ended REAL,
    exit_code INTEGER,
    run_dir TEXT,
    run_status TEXT,
    pid INTEGER,
    child_pid INTEGER,
    message TEXT
);
CREATE INDEX IF NOT EXISTS schedule_executions_job ON schedule_executions (job_id, id);
"""

# statuses of an execution row
RUNNING = "running"
MISSED = "missed"
SKIPPED = "skipped"
LOST = "lost"


@dataclass
class Execution:
    """One row of history: a run (scheduled or run-now), a missed fire or a skipped overlap."""

    id: int
    job_id: str
    job_name: str
    kind: str
    status: str
    scheduled_for: float | None
    started: float | None
    ended: float | None
    exit_code: int | None
    run_dir: str | None
    run_status: str | None
    pid: int | None
    child_pid: int | None
    message: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ScheduleStore:
    """Access to the schedule SQLite file; a fresh connection per call, so any thread may use it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().absolute()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            new = not self.path.exists()
            with closing(self._connect()) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
            if new:
                os.chmod(self.path, 0o600)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the schedule store {self.path}: {exc}",
                             hint="check the path and its permissions, or give --store PATH") from exc

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path.resolve()}"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- job definitions --------------------------------------------------------------------------
    def add_job(self, job: Job) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO schedule_jobs (id, name, definition, registered, created) VALUES (?,?,?,0,?)",
                         (job.id, job.name, job.model_dump_json(), job.created))

    def list_jobs(self) -> list[Job]:
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT definition FROM schedule_jobs ORDER BY created, rowid").fetchall()
        return [Job.model_validate_json(r["definition"]) for r in rows]

    def find_job(self, job_id: str) -> Job | None:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT definition FROM schedule_jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.model_validate_json(row["definition"]) if row else None

    def get_job(self, ref: str) -> Job:
        """A job by id, unique id prefix or unique name; UsageError otherwise."""
        job = self.find_job(ref)
        if job is not None:
            return job
        matches = [j for j in self.list_jobs() if j.id.startswith(ref) or j.name == ref]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UsageError(f"no scheduled job {ref!r} in {self.path}", hint="see `collector schedule list`")
        raise UsageError(f"{ref!r} matches {len(matches)} jobs: " + ", ".join(j.id for j in matches),
                         hint="use the job id")

    def remove_job(self, job_id: str) -> bool:
        """Delete the definition; the scheduler drops its trigger at its next sync (or start).

        APScheduler's own table is left to the scheduler: a running one may be updating that row at this moment.
        """
        with self._tx() as conn:
            gone = conn.execute("DELETE FROM schedule_jobs WHERE id = ?", (job_id,)).rowcount
        return bool(gone)

    def mark_registered(self, job_id: str) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE schedule_jobs SET registered = 1 WHERE id = ?", (job_id,))

    def registered_ids(self) -> set[str]:
        with closing(self._connect()) as conn:
            return {r["id"] for r in conn.execute("SELECT id FROM schedule_jobs WHERE registered = 1")}

    @staticmethod
    def _has_aps_table(conn: sqlite3.Connection) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (APS_TABLE,)).fetchone() \
            is not None

    def next_run_times(self) -> dict[str, float | None]:
        """APScheduler's next run time per job id (epoch seconds; None = paused); jobs it finished are absent."""
        with closing(self._connect()) as conn:
            if not self._has_aps_table(conn):
                return {}
            return {r["id"]: r["next_run_time"] for r in conn.execute(f"SELECT id, next_run_time FROM {APS_TABLE}")}

    def jobstore(self) -> Any:
        """An APScheduler 3.x SQLAlchemyJobStore on this same file (triggers and next run times)."""
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from sqlalchemy import create_engine

        engine = create_engine(self.url, connect_args={"timeout": 30})
        return SQLAlchemyJobStore(engine=engine, tablename=APS_TABLE)

    # -- history ----------------------------------------------------------------------------------
    def start_execution(self, job: Job, kind: str, scheduled_for: float | None, pid: int | None = None) -> int:
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO schedule_executions (job_id, job_name, kind, status, scheduled_for, started, pid) "
                "VALUES (?,?,?,?,?,?,?)",
                (job.id, job.name, kind, RUNNING, scheduled_for, time.time(), pid if pid is not None else os.getpid()))
            return int(cur.lastrowid or 0)

    def set_child(self, exec_id: int, child_pid: int) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE schedule_executions SET child_pid = ? WHERE id = ?", (child_pid, exec_id))

    def finish_execution(self, exec_id: int, status: str, exit_code: int | None, *, run_dir: str | None = None,
                         run_status: str | None = None, message: str | None = None) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE schedule_executions SET status = ?, ended = ?, exit_code = ?, run_dir = ?, run_status = ?, "
                "message = ? WHERE id = ?",
                (status, time.time(), exit_code, run_dir, run_status, message, exec_id))

    def record_event(self, job_id: str, status: str, scheduled_for: float | None, message: str) -> int:
        """A fire that did not run: `missed` (past the grace window) or `skipped` (previous run still going)."""
        job = self.find_job(job_id)
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO schedule_executions (job_id, job_name, kind, status, scheduled_for, message) "
                "VALUES (?,?,?,?,?,?)",
                (job_id, job.name if job else job_id, "scheduled", status, scheduled_for, message))
            return int(cur.lastrowid or 0)

    def executions(self, job_id: str | None = None, limit: int = 50) -> list[Execution]:
        """Newest first."""
        with closing(self._connect()) as conn:
            if job_id is None:
                rows = conn.execute("SELECT * FROM schedule_executions ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
            else:
                rows = conn.execute("SELECT * FROM schedule_executions WHERE job_id = ? ORDER BY id DESC LIMIT ?",
                                    (job_id, limit)).fetchall()
        return [Execution(**dict(r)) for r in rows]

    def last_execution(self, job_id: str) -> Execution | None:
        rows = self.executions(job_id, limit=1)
        return rows[0] if rows else None

    def running(self, job_id: str) -> list[Execution]:
        """Executions of the job still marked running by a live process."""
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT * FROM schedule_executions WHERE job_id = ? AND status = ?",
                                (job_id, RUNNING)).fetchall()
        return [e for e in (Execution(**dict(r)) for r in rows) if e.pid is not None and _alive(e.pid)]

    def reap_stale(self) -> int:
        """Rows left `running` by a scheduler that died (kill -9, power loss) become `lost`; returns how many."""
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT id, pid, child_pid FROM schedule_executions WHERE status = ?",
                                (RUNNING,)).fetchall()
        stale = [r for r in rows if r["pid"] is None or not _alive(r["pid"])]
        with self._tx() as conn:
            for r in stale:
                message = ("the scheduler running it ended without recording a result; check the runs directory "
                           "and `collector resume` the run if it was cut short")
                if r["child_pid"] and _alive(r["child_pid"]):
                    message += f" (the run, pid {r['child_pid']}, was still going, unsupervised, when this was noted)"
                conn.execute("UPDATE schedule_executions SET status = ?, message = ? WHERE id = ? AND status = ?",
                             (LOST, message, r["id"], RUNNING))
        return len(stale)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
