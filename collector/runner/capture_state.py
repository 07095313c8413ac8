"""What one capture knows while it runs: its spec, files, session, status and journal helpers.

Shared by the capture engine's parts (control commands, lines, triggers); holds no loop of its own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConnectionLost
from ..platforms import Platform
from ..playbook.schema import CaptureStep
from ..session.command import CommandResult, NullSink, OutputSink
from ..session.session import Session
from ..store.capture_files import CaptureFiles
from ..store.journal import Journal
from ..store.rundir import RunDir, slugify
from .debug_state import DebugTracker
from .observer import RunObserver
from .plan import PlannedStep

COMMAND_IDLE = 30.0  # idle timeout of start/stop/slow-line commands

Reconnect = Callable[[str], Session]


@dataclass
class CaptureOutcome:
    """How a capture ended: status, lines, bytes, files and gaps."""

    status: str  # ok | stopped-by-match | stopped-by-trigger | duration | bytes | stop-file | interrupted
    #              | rate-guard | precheck-failed
    lines: int
    bytes: int
    files: list[str]
    gaps: list[dict[str, Any]]
    triggers_fired: int
    reason: str
    mode: str = "stream"  # stream | buffer-poll
    keepalives: int = 0
    trigger_files: list[str] = field(default_factory=list)


class Stop(Exception):
    """Internal: a stop condition was reached (the state's status says which)."""


@dataclass
class CaptureState:
    """Everything one capture needs while it runs, and what it has counted so far."""

    step: PlannedStep
    spec: CaptureStep
    platform: Platform
    rundir: RunDir
    journal: Journal
    obs: RunObserver
    debug: DebugTracker
    clock: Callable[[], float] = time.monotonic
    stop_event: threading.Event = field(default_factory=threading.Event)
    session: Session | None = None
    reconnect: Reconnect | None = None
    files: CaptureFiles | None = None
    mode: str = "stream"
    status: str | None = None
    reason: str = ""
    last_activity: float = 0.0
    trigger_files: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return slugify(self.spec.capture, 64)

    @property
    def dir(self) -> Path:
        return self.rundir.captures_dir / self.slug

    @property
    def name(self) -> str:
        return self.spec.capture

    def live(self) -> Session:
        if self.session is None:
            raise ConnectionLost("no session")
        return self.session

    def new_session(self, cause: str) -> Session:
        """Close what is left of the session and get a fresh one from the runner (it reconnects)."""
        if self.session is not None:
            with contextlib.suppress(Exception):  # the old session is gone either way
                self.session.close()
        self.session = None
        if self.reconnect is None:
            raise ConnectionLost(cause)
        self.session = self.reconnect(cause)
        return self.session

    def command(self, command: str, sink: OutputSink | None = None, *, idle: float = COMMAND_IDLE) -> CommandResult:
        """Run a control command; a timeout that leaves no prompt is a lost link."""
        session = self.live()
        result = session.run(command, sink if sink is not None else NullSink(), idle_timeout=idle)
        if result.timed_out and not session.resync():
            raise ConnectionLost(f"no prompt after `{command}` timed out")
        return result

    def set_status(self, status: str, reason: str) -> None:
        if self.status is None:
            self.status, self.reason = status, reason

    def attempt(self) -> int:
        rec = self.journal.state.record(self.step.index, "capture")
        return len(rec.attempts) + 1 if rec is not None else 1
