"""Runs one show or cleanup step to completion: attempts across drops, partials kept, offset resume.

A step is journaled before it starts and after it ends; an interrupted attempt keeps its bytes as `.partial.N`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ConnectionLost
from ..session.command import CommandInterrupted, CommandResult, OutputSink
from ..session.session import Session
from ..store.ahead import FilesAhead
from ..store.events import OffsetResumeFailed, StepCompleted, StepInterrupted, StepSkipped, StepStarted
from ..store.journal import Journal
from ..store.rundir import RunDir
from ..store.stepfile import StepFile
from .debug_state import DebugTracker
from .dialin import DialIn
from .link import Link
from .observer import RunObserver
from .plan import PlannedStep


def step_status(result: CommandResult, expect_error: bool) -> str:
    """ok | timeout | error: a CLI error marker, a refused confirmation or a non-zero exit is never ok."""
    if result.timed_out:
        return "timeout"
    failed = result.error_marker or result.confirm_refused or result.exit_status not in (None, 0)
    return "error" if failed and not expect_error else "ok"


def completed(step: PlannedStep, kind: str, attempt: int, result: CommandResult, sink: StepFile,
              **extra: int | None) -> StepCompleted:
    """The one place a step-completed record is built from a command result."""
    marker = result.error_marker
    if result.confirm_refused and not marker:
        marker = "confirmation refused (the command asked to confirm a change; collector answered no)"
    return StepCompleted(
        step=step.index, kind_of_step=kind, status=step_status(result, step.expect_error), attempt=attempt,
        name=step.name, command=step.command, file=f"steps/{sink.final.name}", raw_start=result.raw_start,
        raw_end=result.raw_end, bytes=sink.bytes, sha256=sink.sha256, error_marker=marker,
        timed_out=result.timed_out, truncated=result.capped, confirm_refused=result.confirm_refused,
        duration=round(result.duration, 6), mode=step.mode, exit_status=result.exit_status,
        resumed_from=extra.get("resumed_from"), resent=extra.get("resent"),
    )


@dataclass
class StepRunner:
    """Executes planned show/cleanup steps on the link, journaling every attempt."""

    link: Link
    journal: Journal
    rundir: RunDir
    obs: RunObserver
    debug: DebugTracker
    allow_changes: bool  # the CLI flag
    dialin: DialIn = field(init=False)  # steps fetched by pieces on slow or unstable lines; the redial budget
    ahead: FilesAhead | None = None  # the next step files, created while a command runs (the runner owns it)

    def __post_init__(self) -> None:
        self.dialin = DialIn(self.link, self.journal, self.rundir, self.obs, self.allow_changes, completed)

    def _send(self, session: Session, step: PlannedStep, command: str, sink: OutputSink,
              while_waiting: Callable[[], object] | None = None) -> CommandResult:
        if step.mode == "exec":
            return session.exec(command, sink, idle_timeout=step.idle_timeout, max_time=step.max_time)
        return session.run(command, sink, idle_timeout=step.idle_timeout, max_time=step.max_time,
                           allow_confirm=step.may_change and self.allow_changes,
                           while_waiting=while_waiting)

    def _started(self, step: PlannedStep, kind: str, attempt: int, command: str, session: Session,
                 **offset: int | str) -> None:
        self.obs.step_started(step.index, step.name)
        self.journal.write(StepStarted(step=step.index, kind_of_step=kind, name=step.name, command=command,
                                       attempt=attempt, raw_offset=session.offset, mode=step.mode,
                                       **offset))  # type: ignore[arg-type]

    def _interrupted(self, step: PlannedStep, kind: str, attempt: int, sink: StepFile, delivered: int,
                     cause: str) -> None:
        partial = sink.keep_partial(attempt)
        self.journal.write(StepInterrupted(step=step.index, kind_of_step=kind, attempt=attempt,
                                           raw_end=self.link.connector.raw.offset, bytes=delivered,
                                           partial_file=f"steps/{partial.name}", cause=cause))

    def run(self, step: PlannedStep, kind: str) -> None:
        prior = self.journal.state.record(step.index, kind)
        attempt = len(prior.attempts) + 1 if prior else 1
        while True:
            if attempt > 1 and step.resume == "skip" and self.dialin.declined.get(step.index) != attempt - 1:
                self.journal.write(StepSkipped(step=step.index, kind_of_step=kind, cause="interrupted; resume: skip"))
                self.obs.step_finished(step.index, step.name, "skipped", 0, 0.0)
                return
            session = self.link.live()
            if self.dialin.takes(step, kind, attempt, session):
                if self.dialin.run(step, kind, attempt):
                    return
                attempt += 1  # declined (journaled): the step runs whole from here
                continue
            if attempt > 1 and step.resume == "offset" and step.offset_command:
                how = self._offset_resume(step, attempt)
                if how == "done":
                    return
                if how in ("retry", "fallback"):
                    attempt += 1
                if how == "retry":
                    continue
                session = self.link.live()
            if self._attempt(step, kind, attempt, session):
                return
            attempt += 1

    def _attempt(self, step: PlannedStep, kind: str, attempt: int, session: Session) -> bool:
        """One attempt; True when the step is recorded as done, False after a drop (the link reconnected)."""
        self._started(step, kind, attempt, step.command, session)
        sink = StepFile(self.rundir.step_path(step.filename), masker=self.journal.masker, ahead=self.ahead)
        self.debug.about_to_send(step.command, step=step.index)
        try:
            result = self._send(session, step, step.command, sink, while_waiting=sink.open)
        except ConnectionLost as exc:
            # CommandInterrupted carries what was delivered; a drop before the first byte has nothing
            delivered = exc.partial.bytes if isinstance(exc, CommandInterrupted) else sink.bytes
            self._interrupted(step, kind, attempt, sink, delivered, exc.message)
            self.link.lost(exc.message)
            return False
        except BaseException as exc:
            self._interrupted(step, kind, attempt, sink, sink.bytes, type(exc).__name__)
            self.link.drop()  # the device is still mid-output: cleanup gets a fresh session, never waits behind it
            raise
        sink.finish()
        record = completed(step, kind, attempt, result, sink)
        self.journal.write(record)
        self.debug.sent(step.command, record.status == "ok")
        self.obs.step_finished(step.index, step.name, record.status, sink.bytes, result.duration)
        if result.timed_out and step.mode != "exec":  # an exec channel ends with its command
            try:
                resynced = session.resync()
            except ConnectionLost:
                resynced = False
            if not resynced:
                self.link.lost(f"no prompt after the step timed out ({step.name})")
        return True

    def _offset_resume(self, step: PlannedStep, attempt: int) -> str:
        """Continue from the last partial with the step's offset command.

        "done" when complete, "retry" when this attempt dropped too, "fallback" when the overlap did not match
        (a full re-run follows as the next attempt), "rerun" when there was nothing to continue from.
        """
        from . import offset_resume  # only a step resumed by its offset command needs it

        assert step.offset_command
        masker = self.journal.masker
        partials = sorted(self.rundir.steps_dir.glob(f"{masker.name(step.filename)}.partial.*"),
                          key=lambda p: int(p.name.rsplit(".", 1)[1]))
        if not partials or partials[-1].stat().st_size == 0:
            return "rerun"
        target, expected, kept = offset_resume.prepare(partials[-1], self.rundir.step_path(step.filename), masker)
        command = offset_resume.continuation_command(step.offset_command, kept, len(expected))
        session = self.link.live()
        self._started(step, "show", attempt, command, session, resume="offset", kept=kept, overlap=len(expected))
        check = offset_resume.OverlapSink(target, expected)
        try:
            result = self._send(session, step, command, check)
        except ConnectionLost as exc:
            self._interrupted(step, "show", attempt, target, target.bytes, exc.message)
            self.link.lost(exc.message)
            return "retry"  # the next attempt continues from this longer partial
        if check.mismatch or not check.verified or result.timed_out:
            target.keep_partial(attempt)
            self.journal.write(OffsetResumeFailed(step=step.index, attempt=attempt, kept=kept,
                                                  cause="overlap mismatch" if check.mismatch else "no continuation"))
            return "fallback"
        target.finish()
        self.journal.write(completed(step, "show", attempt, result, target, resumed_from=kept, resent=len(expected)))
        self.obs.step_finished(step.index, step.name, "ok", target.bytes, result.duration)
        return "done"
