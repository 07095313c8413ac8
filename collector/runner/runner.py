"""Walks a playbook against one target: steps, journal, reconnect-and-resume, guaranteed cleanup.

The journal is written before and after every step, so a crash or a drop never loses what was collected.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import CleanupPending, CollectorError, ConnectionLost, Interrupted
from ..session.session import CommandInterrupted, NullSink, Session
from ..store.chunks import DEFAULT_CHUNK_SIZE
from ..store.fsutil import utc_now
from ..store.journal import Journal
from ..store.records import RunState, StepRecord
from ..store.rundir import RunDir
from ..store.stepfile import StepFile
from ..target import Target
from ..transports.base import ConnectOptions
from . import offset_resume
from .connector import Connector, ReconnectPolicy
from .exec_step import run_exec
from .observer import RunObserver
from .plan import PlannedStep
from .salvage import salvage_partials
from .signals import peak_rss_kib, signals_as_interrupt

OK_STATUSES = ("ok", "completed-with-errors")


@dataclass
class RunOptions:
    runs_dir: Path = Path("runs")
    chunk_size: int = DEFAULT_CHUNK_SIZE
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    cleanup_policy: ReconnectPolicy = field(default_factory=lambda: ReconnectPolicy(attempts=3, within=60.0))
    login_timeout: float = 60.0
    case: str | None = None
    allow_changes: bool = False


@dataclass
class RunOutcome:
    run_dir: Path
    status: str
    steps: list[StepRecord]
    error: CollectorError | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES


class Runner:
    """One run (or the continuation of one) of a planned playbook against one target."""

    def __init__(
        self,
        steps: list[PlannedStep],
        platform: Any,
        target: Target,
        options: ConnectOptions,
        run_options: RunOptions | None = None,
        observer: RunObserver | None = None,
        *,
        playbook_info: dict[str, Any] | None = None,
    ) -> None:
        self.steps = [s for s in steps if s.kind != "cleanup"]
        self.cleanup_steps = [s for s in steps if s.kind == "cleanup"]
        self.platform = platform
        self.target = target
        self.options = options
        self.ropts = run_options or RunOptions()
        self.obs = observer or RunObserver()
        self.playbook_info = playbook_info or {}
        self.masker = options.credentials.masker
        self.session: Session | None = None
        self.connected_once = False
        self.debug_on = False
        self.state = RunState()
        self.rundir: RunDir | None = None
        self.journal: Journal | None = None
        self.cleaning = False  # during cleanup, a reconnect never restores session state (no debug back on)

    # -- public ---------------------------------------------------------------------------
    def start(self) -> RunOutcome:
        rd = RunDir.create(self.ropts.runs_dir, self.target.slug(), self.playbook_info.get("name", "playbook"))
        rd.write_run_info(self._run_info())
        return self._execute(rd, resumed=False)

    def resume(self, run_dir: Path) -> RunOutcome:
        rd = RunDir.open(run_dir)
        self.state = rd.state()
        self.debug_on = self.state.debug_active
        self.state = salvage_partials(rd, self.state, self.masker)
        return self._execute(rd, resumed=True)

    # -- the run --------------------------------------------------------------------------
    def _run_info(self) -> dict[str, Any]:
        return {
            "run_id": os.urandom(8).hex(),
            "collector_version": __version__,
            "target": self.target.display(),
            "target_url": self.target.display(),
            "transport": self.target.scheme,
            "jumps": [j.display() for j in self.options.jumps],
            "connect": {  # the non-secret connection choices, so `collector resume` reconnects the same way
                "jump_mode": self.options.jump_mode,
                "legacy_algorithms": self.options.legacy_algorithms,
                "use_agent": self.options.use_agent,
                "ssh_config": self.options.ssh_config is not None,
                "target_options": dict(self.target.options),
            },
            "platform": getattr(self.platform, "name", str(self.platform)),
            "playbook": self.playbook_info,
            "case": self.ropts.case,
            "collector_host": socket.gethostname(),
            "started_at": utc_now(),
            "status": "running",
        }

    def _execute(self, rd: RunDir, *, resumed: bool) -> RunOutcome:
        self.rundir = rd
        raw = rd.raw_stream(self.ropts.chunk_size, self.masker)
        self.raw = raw
        self.journal = journal = rd.journal(self.masker)
        journal.write("run-resumed" if resumed else "run-started", target=self.target.display(),
                      steps=len(self.steps), cleanup_steps=len(self.cleanup_steps), durable=True)
        self.obs.run_started(str(rd.path), self.target.display(), len(self.steps))
        self.connector = Connector(
            self.target, self.options, self.platform, raw,
            policy=self.ropts.policy, progress=self.obs.bytes_read,
            on_attempt=self._on_reconnect_attempt, login_timeout=self.ropts.login_timeout,
        )
        status = "running"
        error: CollectorError | None = None
        try:
            with signals_as_interrupt():
                try:
                    self.session = self.connector.connect()
                    self._connected()
                    if resumed and (self.debug_on or self.state.cleanup == "pending"):
                        self.obs.notice("cleaning up what the previous run left on (debug off) before continuing")
                        self._debug_off("resume")
                    if resumed:
                        self._restore_session_state()  # e.g. terminal monitor, marked session_state
                    for step in self.steps:
                        rec = self.state.steps.get(("main", step.index))
                        if rec is not None and rec.done:
                            continue
                        self._run_step(step)
                    status = self._final_status()
                except KeyboardInterrupt:
                    status = "interrupted"
                    error = Interrupted("stopped by the user or the system")
                except CollectorError as exc:
                    status = "failed"
                    error = exc
                finally:
                    cleanup_status = self._cleanup()
                    if cleanup_status == "pending":
                        status = "cleanup-pending"
                        error = error or CleanupPending(
                            "cleanup (debug off / terminal no monitor) could not be sent: the device was unreachable"
                        )
        finally:
            if self.session is not None:
                with contextlib.suppress(Exception):
                    self.session.close()
            try:
                raw.close()
            except CollectorError as exc:  # a seal could not be written (disk full): say so, keep the data
                error = error or exc
                status = "failed" if status in ("ok", "completed-with-errors") else status
            journal.write("run-ended", status=status, error=error.message if error else None, durable=True)
            journal.close()
            info: dict[str, Any] = {"status": status, "ended_at": utc_now(), "peak_rss_kib": peak_rss_kib()}
            if self.session is not None:
                info["link"] = dict(self.session.transport.info)
            with contextlib.suppress(CollectorError):
                rd.update_run_info(**info)
            self.obs.run_finished(status)
        final = rd.state()
        return RunOutcome(rd.path, status, final.ordered(), error)

    def _connected(self) -> None:
        assert self.session is not None and self.journal is not None
        self.connected_once = True
        info = dict(self.session.transport.info)
        self.journal.write("connected", link=info, prompt=self.session.prompt)
        self.obs.connected(info)

    def _final_status(self) -> str:
        assert self.rundir is not None
        state = self.rundir.state()
        recs = [r for r in state.ordered() if r.kind != "cleanup"]
        if any(r.status in ("error", "timeout", "failed") for r in recs):
            return "completed-with-errors"
        return "ok"

    # -- steps ----------------------------------------------------------------------------
    def _run_capture(self, step: PlannedStep) -> None:
        """A long capture: the engine streams, rotates, triggers and always stops; we lend it reconnects."""
        assert self.journal is not None and self.rundir is not None
        from .capture import CaptureRunner

        session = self._live_session()
        spec = step.spec
        slow_ok = getattr(self.platform, "slow_line", None) is not None and spec.slow_line != "off" and (
            not self.platform.slow_line.config_mode
            or ((step.extra.get("playbook_allow_changes") or step.allow_changes) and self.ropts.allow_changes))
        engine = CaptureRunner(step, self.platform, self.rundir, self.journal, self.obs, slow_line_allowed=slow_ok)
        self.debug_on = True  # from its first start command until the engine proves it stopped
        try:
            engine.run(session, self._capture_reconnect)  # journals its own step records and observer calls
        finally:
            self.debug_on = engine.debug_on

    def _capture_reconnect(self, cause: str) -> Session:
        """For the capture engine: the link dropped mid-capture; journal it, reconnect, debug off, state back."""
        assert self.journal is not None
        self.journal.write("connection-lost", cause=cause, raw_offset=self.raw.offset, debug_on=True, durable=True)
        self.obs.notice(f"connection lost during the capture ({cause}); reconnecting")
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()
        self.session = None
        self.debug_on = True  # IOS keeps debugging after our session is gone: switch it off first
        return self._reconnect()

    def _run_step(self, step: PlannedStep, *, kind: str | None = None) -> None:
        assert self.journal is not None and self.rundir is not None
        kind = kind or step.kind
        if kind == "capture":
            self._run_capture(step)
            return
        prior = self.state.steps.get(("cleanup" if kind == "cleanup" else "main", step.index))
        attempt = len(prior.attempts) + 1 if prior else 1
        while True:
            if attempt > 1 and step.resume == "skip":
                self.journal.write("step-skipped", step=step.index, kind=kind, cause="interrupted; resume: skip")
                self.obs.step_finished(step.index, step.name, "skipped", 0, 0.0)
                return
            session = self._live_session()
            if attempt > 1 and step.resume == "offset" and step.offset_command:
                how = self._offset_resume(step, attempt)
                if how == "done":
                    return
                if how in ("retry", "fallback"):
                    attempt += 1
                if how == "retry":
                    continue
            self.obs.step_started(step.index, step.name)
            self.journal.write("step-started", step=step.index, name=step.name, command=step.command, kind=kind,
                               attempt=attempt, raw_offset=self.raw.offset, mode=step.mode)
            sink = StepFile(self.rundir.step_path(step.filename), masker=self.masker)
            try:
                if step.mode == "exec":
                    result = run_exec(session, step.command, sink, idle_timeout=step.idle_timeout,
                                      max_time=step.max_time)
                else:
                    result = session.run(step.command, sink, idle_timeout=step.idle_timeout,
                                         max_time=step.max_time,
                                         allow_confirm=step.allow_changes and self.ropts.allow_changes)
            except ConnectionLost as exc:
                # CommandInterrupted carries what was delivered; a drop before the first byte has nothing
                delivered = exc.partial.bytes if isinstance(exc, CommandInterrupted) else sink.bytes
                partial = sink.keep_partial(attempt)
                self.journal.write("step-interrupted", step=step.index, kind=kind, attempt=attempt,
                                   raw_end=self.raw.offset, bytes=delivered,
                                   partial_file=f"steps/{partial.name}", cause=exc.message)
                self._lost(exc.message)
                attempt += 1
                continue
            except BaseException as exc:
                partial = sink.keep_partial(attempt)
                self.journal.write("step-interrupted", step=step.index, kind=kind, attempt=attempt,
                                   raw_end=self.raw.offset, bytes=sink.bytes,
                                   partial_file=f"steps/{partial.name}", cause=type(exc).__name__)
                # the device is still mid-output: cleanup gets a fresh session instead of waiting behind it
                with contextlib.suppress(Exception):
                    session.close()
                self.session = None
                raise
            sink.finish()
            status = "ok"
            if result.timed_out:
                status = "timeout"
            elif (result.error_marker or result.exit_status not in (None, 0)) and not step.expect_error:
                status = "error"
            self.journal.write(
                "step-completed", step=step.index, kind=kind, status=status, attempt=attempt,
                name=step.name, command=step.command, file=f"steps/{sink.final.name}",
                raw_start=result.raw_start, raw_end=result.raw_end, bytes=sink.bytes, sha256=sink.sha256,
                error_marker=result.error_marker, timed_out=result.timed_out, truncated=result.capped,
                confirm_refused=result.confirm_refused, duration=round(result.duration, 6), mode=step.mode,
                exit_status=result.exit_status,
            )
            self._track_debug(step.command, status)
            self.obs.step_finished(step.index, step.name, status, sink.bytes, result.duration)
            if result.timed_out and step.mode != "exec":  # an exec channel ends with its command
                try:
                    resynced = session.resync()
                except ConnectionLost:
                    resynced = False
                if not resynced:
                    self._lost(f"no prompt after the step timed out ({step.name})")
            return

    def _offset_resume(self, step: PlannedStep, attempt: int) -> str:
        """Continue from the last partial with the step's offset command.

        "done" when complete, "retry" when this attempt dropped too, "fallback" when the overlap did not match
        (a full re-run follows as the next attempt), "rerun" when there was nothing to continue from.
        """
        assert self.journal is not None and self.rundir is not None and step.offset_command
        partials = sorted(self.rundir.steps_dir.glob(f"{self.masker.name(step.filename)}.partial.*"),
                          key=lambda p: int(p.name.rsplit(".", 1)[1]))
        if not partials or partials[-1].stat().st_size == 0:
            return "rerun"
        target, expected, kept = offset_resume.prepare(partials[-1], self.rundir.step_path(step.filename), self.masker)
        command = offset_resume.continuation_command(step.offset_command, kept, len(expected))
        session = self._live_session()
        self.obs.step_started(step.index, step.name)
        self.journal.write("step-started", step=step.index, name=step.name, command=command, kind="show",
                           attempt=attempt, raw_offset=self.raw.offset, mode=step.mode, resume="offset",
                           kept=kept, overlap=len(expected))
        check = offset_resume.OverlapSink(target, expected)
        try:
            if step.mode == "exec":
                result = run_exec(session, command, check, idle_timeout=step.idle_timeout, max_time=step.max_time)
            else:
                result = session.run(command, check, idle_timeout=step.idle_timeout, max_time=step.max_time)
        except ConnectionLost as exc:
            partial = target.keep_partial(attempt)
            self.journal.write("step-interrupted", step=step.index, kind="show", attempt=attempt,
                               raw_end=self.raw.offset, bytes=target.bytes, partial_file=f"steps/{partial.name}",
                               cause=exc.message)
            self._lost(exc.message)
            return "retry"  # the next attempt continues from this longer partial
        if check.mismatch or not check.verified or result.timed_out:
            target.keep_partial(attempt)
            self.journal.write("offset-resume-failed", step=step.index, attempt=attempt, kept=kept,
                               cause="overlap mismatch" if check.mismatch else "no continuation")
            return "fallback"
        target.finish()
        self.journal.write(
            "step-completed", step=step.index, kind="show", status="ok", attempt=attempt, name=step.name,
            command=step.command, file=f"steps/{target.final.name}", raw_start=result.raw_start, raw_end=result.raw_end,
            bytes=target.bytes, sha256=target.sha256, error_marker=None, timed_out=False, truncated=False,
            duration=round(result.duration, 6), mode=step.mode, resumed_from=kept, resent=len(expected),
        )
        self.obs.step_finished(step.index, step.name, "ok", target.bytes, result.duration)
        return "done"

    def _track_debug(self, command: str, status: str) -> None:
        assert self.journal is not None
        words = command.strip().lower().split()
        if not words or status != "ok":
            return
        if words[0] in ("debug", "deb") and not self.debug_on:
            self.debug_on = True
            self.journal.write("debug-on", command=command)
        elif (words[0] in ("undebug", "u", "und") or words[:2] == ["no", "debug"]) and self.debug_on:
            self.debug_on = False
            self.journal.write("debug-off", command=command)

    def _live_session(self) -> Session:
        if self.session is None:
            self.session = self._reconnect()
        return self.session

    # -- drops ----------------------------------------------------------------------------
    def _lost(self, cause: str) -> None:
        """The link is gone: journal the outage, reconnect, clean up debug, restore session state."""
        assert self.journal is not None
        self.journal.write("connection-lost", cause=cause, raw_offset=self.raw.offset, debug_on=self.debug_on,
                           durable=True)
        self.obs.notice(f"connection lost ({cause}); reconnecting")
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()
        self.session = None
        self.session = self._reconnect()

    def _reconnect(self) -> Session:
        """Reconnect, switch debug off if it was on, restore session state; a drop meanwhile starts over."""
        assert self.journal is not None
        for _ in range(max(1, self.ropts.policy.attempts)):
            session = self.connector.reconnect()
            self.session = session
            self.journal.write("reconnected", link=dict(session.transport.info), prompt=session.prompt,
                               durable=True)
            self.obs.notice("reconnected")
            try:
                if self.debug_on:
                    self._debug_off("reconnect")
                if not self.cleaning:
                    self._restore_session_state()
            except ConnectionLost as exc:
                self.journal.write("connection-lost", cause=f"while restoring the session: {exc.message}",
                                   raw_offset=self.raw.offset, debug_on=self.debug_on, durable=True)
                with contextlib.suppress(Exception):
                    session.close()
                self.session = None
                continue
            return session
        raise ConnectionLost(f"the link to {self.target.display()} kept dropping while the session was restored")

    def _on_reconnect_attempt(self, attempt: int, exc: BaseException | None) -> None:
        if self.journal is not None and attempt:
            self.journal.write("reconnect-attempt", attempt=attempt,
                               error=(exc.message if isinstance(exc, CollectorError) else repr(exc)) if exc else None)

    def _debug_off(self, reason: str) -> None:
        """Debug survives a dropped session on most devices: switch it off at once."""
        assert self.journal is not None and self.session is not None
        for cmd in getattr(self.platform, "debug_off_commands", []) or []:
            result = self.session.run(cmd, NullSink(), idle_timeout=15.0)
            self.journal.write("debug-off-sent", command=cmd, reason=reason, raw_start=result.raw_start,
                               raw_end=result.raw_end)
        self.debug_on = False
        self.journal.write("debug-off", reason=reason)

    def _restore_session_state(self) -> None:
        assert self.journal is not None and self.session is not None and self.rundir is not None
        state = self.rundir.state()
        for step in self.steps:
            rec = state.steps.get(("main", step.index))
            if rec is None or rec.status != "ok":
                continue
            stateful = step.session_state or _platform_says_state(self.platform, step.command)
            if stateful:
                result = self.session.run(step.command, NullSink(), idle_timeout=step.idle_timeout)
                self.journal.write("session-state-restored", step=step.index, command=step.command,
                                   raw_start=result.raw_start, raw_end=result.raw_end)
                self._track_debug(step.command, "ok")

    # -- cleanup --------------------------------------------------------------------------
    def _cleanup(self) -> str:
        """Run cleanup steps (and debug off) whatever happened; 'done', 'pending' or 'none'."""
        assert self.journal is not None
        if not self.connected_once:
            return "none"
        needed = bool(self.cleanup_steps) or self.debug_on
        if not needed:
            return "none"
        self.journal.write("cleanup-started", debug_on=self.debug_on)
        self.cleaning = True
        self.connector.policy = self.ropts.cleanup_policy
        cause = ""
        for _ in range(2):  # a link that dies during cleanup gets one more round
            try:
                if self.session is None or not self.session.transport.alive():
                    self.session = None
                    self.session = self._reconnect_for_cleanup()
                if self.debug_on:
                    self._debug_off("cleanup")
                done = self.rundir.state() if self.rundir else RunState()
                for step in self.cleanup_steps:
                    rec = done.steps.get(("cleanup", step.index))
                    if rec is not None and rec.done:
                        continue
                    self._run_step(step, kind="cleanup")
            except ConnectionLost as exc:
                cause = exc.message
                if self.session is not None:
                    with contextlib.suppress(Exception):
                        self.session.close()
                self.session = None
                continue
            except (CollectorError, OSError, KeyboardInterrupt) as exc:
                cause = exc.message if isinstance(exc, CollectorError) else repr(exc)
                break
            self.journal.write("cleanup-completed", durable=True)
            return "done"
        self.journal.write("cleanup-pending", cause=cause, durable=True)
        self.obs.notice("CLEANUP PENDING: debug/monitor may still be on; run `collector resume` as soon as "
                        "the device is reachable")
        return "pending"

    def _reconnect_for_cleanup(self) -> Session:
        assert self.journal is not None
        self.journal.write("connection-lost", cause="link down at cleanup", raw_offset=self.raw.offset,
                           debug_on=self.debug_on)
        session = self.connector.reconnect()
        self.journal.write("reconnected", link=dict(session.transport.info), prompt=session.prompt)
        return session

def _platform_says_state(platform: Any, command: str) -> bool:
    check = getattr(platform, "is_session_state", None)
    return bool(check(command)) if callable(check) else False


__all__ = ["Runner", "RunOptions", "RunOutcome", "ConnectionLost"]
