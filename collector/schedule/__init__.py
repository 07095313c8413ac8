"""Scheduled runs: jobs (at / cron / every, with a --for cap) kept in SQLite and run by `collector scheduler`.

Each execution is `collector run ... --json` in its own subprocess; see daemon.py for the missed-run policy.
"""

from .executor import ExecutionResult, execute
from .jobs import Job, default_store_path, make_job
from .store import Execution, ScheduleStore

__all__ = ["Execution", "ExecutionResult", "Job", "ScheduleStore", "default_store_path", "execute", "make_job"]
