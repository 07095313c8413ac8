"""What the piece strategies (sections, staged offsets) share: one step's context, redials, timing and the record.

A step fetched by pieces is one attempt in the journal; its pieces, drops and line cost are journaled as they
happen, so a drop or a crash never loses a finished piece and `collector resume` continues from them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..errors import CollectorError, ConnectionLost
from ..secrets import Masker
from ..session.command import CommandResult, OutputSink
from ..session.session import Session
from ..store.dialin_events import StepAssembled
from ..store.events import StepCompleted, StepInterrupted, StepStarted
from ..store.journal import Journal
from ..store.records import StepRecord
from ..store.rundir import RunDir
from ..store.stepfile import StepFile
from .linestats import LineLedger
from .link import Link
from .observer import RunObserver
from .plan import PlannedStep

T = TypeVar("T")
CompletedFn = Callable[..., StepCompleted]  # steps.completed: the one builder of step-completed records


@dataclass
class PieceRun:
    """One step being fetched by pieces on the link: journaling, redials and the line ledger."""

    link: Link
    journal: Journal
    rundir: RunDir
    obs: RunObserver
    step: PlannedStep
    kind: str
    attempt: int
    completed: CompletedFn
    ledger: LineLedger = field(default_factory=LineLedger)
    last_prompt: float | None = None  # when the previous piece's prompt arrived, on this call
    raw_start: int | None = None
    raw_end: int | None = None

    # -- files and state -------------------------------------------------------------------------------------
    def record(self) -> StepRecord | None:
        return self.journal.state.record(self.step.index, self.kind)

    @property
    def masker(self) -> Masker:
        return self.journal.masker

    def step_path(self) -> Path:
        """The step file's path (a secret in its name masked, as StepFile names it)."""
        return self.rundir.steps_dir / self.masker.name(self.step.filename)

    @property
    def pieces_dir(self) -> Path:
        path = self.rundir.steps_dir / f"{self.masker.name(self.step.filename)}.pieces"
        path.mkdir(exist_ok=True)
        return path

    def tidy(self) -> None:
        """The step is assembled: its pieces directory goes when nothing (no cut try) is left in it."""
        path = self.rundir.steps_dir / f"{self.masker.name(self.step.filename)}.pieces"
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()

    def rel(self, path: Path) -> str:
        return path.relative_to(self.rundir.path).as_posix()

    def line_rate(self) -> int | None:
        session = self.link.session
        return session.transport.line_rate if session is not None else None

    # -- the attempt -----------------------------------------------------------------------------------------
    def started(self, strategy: str, expected: int | None = None) -> None:
        session = self.link.live()
        self.obs.step_started(self.step.index, self.step.name, expected)
        self.journal.write(StepStarted(step=self.step.index, kind_of_step=self.kind, name=self.step.name,
                                       command=self.step.command, attempt=self.attempt, raw_offset=session.offset,
                                       mode=self.step.mode, resume=strategy))

    def stopped(self, cause: str, kept: int) -> None:
        """The attempt ends unfinished (declined, budget spent, Ctrl-C): finished pieces stay for a resume."""
        self.journal.write(StepInterrupted(step=self.step.index, kind_of_step=self.kind, attempt=self.attempt,
                                           raw_end=self.link.connector.raw.offset, bytes=kept, cause=cause))

    def abort(self, exc: BaseException, kept: int) -> None:
        cause = exc.message if isinstance(exc, CollectorError) else type(exc).__name__
        self.stopped(cause, kept)
        if not isinstance(exc, CollectorError):
            self.link.drop()  # Ctrl-C mid-piece: the device may still be mid-output, cleanup gets a fresh session

    # -- sending -----------------------------------------------------------------------------------------------
    def redial(self, cause: str) -> Session:
        """The call dropped: journal it, redial within the budget, log in again (the link restores state)."""
        self.ledger.dropped()
        self.last_prompt = None
        session = self.link.lost(cause)
        self.ledger.reconnected()
        return session

    def with_redial(self, send: Callable[[Session], T]) -> T:
        """A short command (list, stage, size, remove): sent again on the next call after a drop."""
        while True:
            session = self.link.live()
            try:
                return send(session)
            except ConnectionLost as exc:
                self.redial(exc.message)

    def run(self, session: Session, command: str, sink: OutputSink, idle_timeout: float | None = None,
            max_time: float | None = None) -> tuple[CommandResult, float | None]:
        """One piece command, sent as soon as the previous prompt is in; (result, idle gap before it)."""
        now = time.monotonic()
        gap = None if self.last_prompt is None else now - self.last_prompt
        result = session.run(command, sink, idle_timeout=idle_timeout or self.step.idle_timeout,
                             max_time=self.step.max_time if max_time is None else max_time)
        self.last_prompt = time.monotonic()
        self.raw_start = result.raw_start if self.raw_start is None else self.raw_start
        self.raw_end = result.raw_end
        if result.timed_out and not session.resync():
            self.redial(f"no prompt after `{command[:60]}` timed out")
        return result, gap

    # -- the end -------------------------------------------------------------------------------------------------
    def finish(self, sink: StepFile, strategy: str, pieces: int, *, error_marker: str | None = None,
               timed_out: bool = False) -> None:
        """Journal how the step was assembled, then its step-completed record."""
        summary = self.ledger.summary(sink.bytes)
        self.journal.write(StepAssembled(step=self.step.index, kind_of_step=self.kind, strategy=strategy,
                                         pieces=pieces, line_rate=self.line_rate(), **summary))
        start = self.raw_start if self.raw_start is not None else self.link.connector.raw.offset
        result = CommandResult(command=self.step.command, raw_start=start, raw_end=self.raw_end or start,
                               bytes=sink.bytes, error_marker=error_marker, timed_out=timed_out,
                               duration=self.ledger.elapsed())
        record = self.completed(self.step, self.kind, self.attempt, result, sink)
        self.journal.write(record)
        self.obs.step_finished(self.step.index, self.step.name, record.status, sink.bytes, result.duration)

    def progress(self, kept: int, expected: int | None, done: int, total: int | None) -> None:
        self.obs.line_progress(self.ledger.progress(self.step.index, self.step.name, kept, expected, done, total))
