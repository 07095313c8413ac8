"""Scheduled runs: jobs (at / cron / every, with a --for cap) kept in SQLite and run by `collector scheduler`.

Each execution is `collector run ... --json` in its own subprocess; see daemon.py for the missed-run policy.
The names below load on first use, so `collector` commands that never schedule do not pay for APScheduler.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ExecutionResult": "executor", "execute": "executor", "Job": "jobs", "default_store_path": "jobs",
    "make_job": "jobs", "Execution": "store", "ScheduleStore": "store",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
