"""Walks a playbook against one target: the run lifecycle (start, resume, steps, cleanup, final status).

The journal is written before and after every step, so a crash or a drop never loses what was collected.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import CleanupPending, CollectorError, ConnectionLost, Interrupted
from ..parse.run import StepChoice, parse_run
from ..platforms import Platform
from ..session.command import NullSink
from ..session.session import Session
from ..store.ahead import FilesAhead, remove_stale
from ..store.chunks import DEFAULT_CHUNK_SIZE, RawStream
from ..store.events import RunEnded, RunResumed, RunStarted, SessionStateRestored
from ..store.fsutil import utc_now
from ..store.journal import Journal
from ..store.platform_events import PlatformDetected
from ..store.records import RunState, StepRecord
from ..store.rundir import RunDir
from ..target import Target
from ..transports.base import ConnectOptions
from .cleanup import Cleanup
from .connector import Connector, LoginGate, ReconnectPolicy
from .debug_state import DebugTracker
from .link import Link
from .observer import RunObserver
from .plan import PlannedStep
from .run_info import ConnectRecord, CredentialRecord, PlaybookRecord, RunInfo
from .settings_state import SettingsTracker
from .signals import peak_rss_kib, signals_as_interrupt
from .steps import StepRunner

OK_STATUSES = ("ok", "completed-with-errors")
#: `platform: auto`: the steps (and their playbook) for the platform found after login, guard-checked (may raise)
Retarget = Callable[[Platform], tuple[list[PlannedStep], PlaybookRecord]]


@dataclass
class RunOptions:
    """How a run stores, reconnects, logs in and parses (everything but the target and the steps)."""

    runs_dir: Path = Path("runs")
    chunk_size: int = DEFAULT_CHUNK_SIZE
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    cleanup_policy: ReconnectPolicy = field(default_factory=lambda: ReconnectPolicy(attempts=3, within=60.0))
    login_timeout: float = 60.0
    case: str | None = None
    allow_changes: bool = False
    send_break: bool = False
    credential_sources: CredentialRecord | None = None  # recorded in run.json so resume asks the same way
    #: parse outputs when the run ends; a fleet defers it until every device has finished collecting
    parse_outputs: bool = True
    login_gate: LoginGate | None = None  # held around every (re)connect: a fleet's per-jump-host/AAA login limits
    #: step files made ahead at most at once (each holds a descriptor until its step takes it); a fleet runs many
    #: devices in one process and asks for fewer
    files_ahead: int = 128


@dataclass
class RunOutcome:
    """What a run ended with: its directory, status, steps and error."""

    run_dir: Path
    status: str
    steps: list[StepRecord]
    error: CollectorError | None = None
    user_mode: bool = False  # the device stayed in user mode (an enable secret would have helped)
    state: RunState | None = None  # the journal as folded while it was written (a parse later needs no re-read)

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES


class Runner:
    """One run (or the continuation of one) of a planned playbook against one target."""

    def __init__(self, steps: list[PlannedStep], platform: Platform, target: Target, options: ConnectOptions,
                 run_options: RunOptions | None = None, observer: RunObserver | None = None, *,
                 playbook_info: PlaybookRecord | dict[str, Any] | None = None,
                 retarget: Retarget | None = None) -> None:
        self.steps = [s for s in steps if s.kind != "cleanup"]
        self.cleanup_steps = [s for s in steps if s.kind == "cleanup"]
        self.platform = platform
        self.target = target
        self.options = options
        self.ropts = run_options or RunOptions()
        self.obs = observer or RunObserver()
        self.playbook = (playbook_info if isinstance(playbook_info, PlaybookRecord)
                         else PlaybookRecord.model_validate(playbook_info or {}))
        self.masker = options.credentials.masker
        self.retarget = retarget

    # -- public ---------------------------------------------------------------------------
    def start(self) -> RunOutcome:
        rd = RunDir.create(self.ropts.runs_dir, self.target.slug(), self.playbook.name)
        rd.write_run_info(self._run_info(), self.masker)
        return self._execute(rd, resumed=False)

    def resume(self, run_dir: Path) -> RunOutcome:
        rd = RunDir.open(run_dir)
        rd.ensure_reserve()
        if self.ropts.credential_sources is not None:  # a later resume asks the way this one did
            rd.update_run_info(self.masker, credentials=self.ropts.credential_sources.model_dump(mode="json"))
        from .salvage import salvage_partials

        remove_stale(rd.steps_dir)  # files prepared ahead for steps a killed run never reached
        salvage_partials(rd, rd.state(), self.masker)
        return self._execute(rd, resumed=True)

    # -- the run --------------------------------------------------------------------------
    def _run_info(self) -> dict[str, Any]:
        o = self.options
        info = RunInfo(
            run_id=os.urandom(8).hex(), collector_version=__version__, target=self.target.display(),
            target_url=self.target.display(), transport=self.target.scheme, jumps=[j.display() for j in o.jumps],
            connect=ConnectRecord(jump_mode=o.jump_mode, legacy_algorithms=o.legacy_algorithms, use_agent=o.use_agent,
                                  ssh_config=o.ssh_config is not None, send_break=self.ropts.send_break,
                                  accept_new_host_key=o.accept_new_host_key, known_hosts=o.known_hosts,
                                  target_options=dict(self.target.options)),
            credentials=self.ropts.credential_sources or CredentialRecord(), platform=self.platform.name,
            playbook=self.playbook, case=self.ropts.case, allow_changes=self.ropts.allow_changes,
            collector_host=socket.gethostname(),
            started_at=utc_now(), status="running",
        )
        return info.model_dump(mode="json", exclude={"format", "link"})

    def _parts(self, rd: RunDir, raw: RawStream, journal: Journal) -> tuple[Link, StepRunner, Cleanup]:
        settings = SettingsTracker(journal)
        connector = Connector(self.target, self.options, self.platform, raw, policy=self.ropts.policy,
                              progress=self.obs.bytes_read, login_timeout=self.ropts.login_timeout,
                              send_break=self.ropts.send_break, gate=self.ropts.login_gate,
                              before_change=settings.about_to_change)
        debug = DebugTracker(self.platform, journal)
        link = Link(connector, journal, self.obs, debug, self.target.display(),
                    restore=lambda s: self._restore_session_state(s, journal, debug))
        steps = StepRunner(link, journal, rd, self.obs, debug, self.ropts.allow_changes)
        cleanup = Cleanup(link, journal, self.obs, debug, self.cleanup_steps, self.ropts.cleanup_policy, settings)
        return link, steps, cleanup

    def _execute(self, rd: RunDir, *, resumed: bool) -> RunOutcome:
        raw = rd.raw_stream(self.ropts.chunk_size, self.masker)
        journal = rd.journal(self.masker)
        started = RunResumed if resumed else RunStarted
        journal.write(started(target=self.target.display(), steps=len(self.steps),
                              cleanup_steps=len(self.cleanup_steps)))
        self.obs.run_started(str(rd.path), self.target.display(), len(self.steps))
        link, steps, cleanup = self._parts(rd, raw, journal)
        status: str = "running"
        error: CollectorError | None = None
        try:
            with signals_as_interrupt():
                try:
                    self._main(link, steps, journal, rd, resumed)
                    status = self._final_status(journal)
                except KeyboardInterrupt:
                    status, error = "interrupted", Interrupted("stopped by the user or the system")
                except CollectorError as exc:
                    status, error = "failed", exc
                finally:
                    cleaned = cleanup.run(steps)
                    if cleaned == "pending":
                        status = "cleanup-pending"
                        error = error or CleanupPending(
                            "debug may still be on: `undebug all` could not be sent (the device was unreachable)"
                        )
                    elif cleaned == "failed" and status == "ok":
                        status = "completed-with-errors"
                    if status == "failed" and not link.connected_once:
                        status = "failed-before-start"
        finally:
            status, error = self._close(rd, link, raw, journal, status, error)
        if self.ropts.parse_outputs:
            self.parse_outputs(rd.path, journal.state)
        final = journal.state
        user_mode = final.mode == "user" and any(r.status == "error" for r in final.ordered())
        return RunOutcome(rd.path, status, final.ordered(), error, user_mode, final)

    def _main(self, link: Link, steps: StepRunner, journal: Journal, rd: RunDir, resumed: bool) -> None:
        # the step files are made while the device logs us in (tens of ms of waiting), not between its answers
        steps.ahead = self._files_ahead(rd, journal)
        try:
            session = link.connect()
            if session.detection is not None:
                self._adopt(session, link, steps, journal, rd)
                steps.ahead.close()  # the detected platform's steps replace the playbook's
                steps.ahead = self._files_ahead(rd, journal)
            if resumed and (link.debug.on or journal.state.cleanup == "pending"):
                self.obs.notice("cleaning up what the previous run left on (debug off) before continuing")
                link.debug.switch_off(session, "resume")
            if resumed:
                self._restore_session_state(session, journal, link.debug)  # e.g. terminal monitor
            for step in [s for s in self.steps if not _done(journal, s)]:
                if _done(journal, step):  # e.g. finished by an earlier step's recovery
                    continue
                if step.kind == "capture":
                    self._run_capture(step, link, journal, rd)
                else:
                    steps.run(step, step.kind)
        finally:
            steps.ahead.close()
            steps.ahead = None

    def _files_ahead(self, rd: RunDir, journal: Journal) -> FilesAhead:
        shows = sum(1 for s in self.steps if s.kind == "show" and not _done(journal, s))
        return FilesAhead(rd.steps_dir, shows, depth=self.ropts.files_ahead).start()

    def _adopt(self, session: Session, link: Link, steps: StepRunner, journal: Journal, rd: RunDir) -> None:
        """`platform: auto`: talk as the platform the session found from now on (reconnects log in as it), journal
        what was found and why, and take the steps meant for it (guard-checked by `retarget`, before any step)."""
        found = session.detection
        assert found is not None
        self.platform = session.platform
        link.connector.platform = link.debug.platform = steps.dialin.platform = self.platform
        journal.write(PlatformDetected(platform=found.platform, reason=found.reason, prompt=found.prompt,
                                       candidates=found.candidates, tried=found.tried))
        self.obs.notice(f"platform detected: {found.platform} ({found.reason})")
        update: dict[str, Any] = {"platform": found.platform,
                                  "detection": {"platform": found.platform, "reason": found.reason,
                                                "prompt": found.prompt, "candidates": found.candidates,
                                                "tried": [t["command"] for t in found.tried]}}
        if self.retarget is not None:
            planned, record = self.retarget(self.platform)
            self.steps[:] = [s for s in planned if s.kind != "cleanup"]
            self.cleanup_steps[:] = [s for s in planned if s.kind == "cleanup"]
            self.playbook = record
            update["playbook"] = record.model_dump(mode="json")
        rd.update_run_info(self.masker, **update)

    def _close(self, rd: RunDir, link: Link, raw: RawStream, journal: Journal, status: str,
               error: CollectorError | None) -> tuple[str, CollectorError | None]:
        session = link.session
        link.drop()
        try:
            raw.close()
        except CollectorError as exc:  # a seal could not be written (disk full): say so, keep the data
            error = error or exc
            status = "failed" if status in OK_STATUSES else status
        journal.write(RunEnded(status=status, error=error.message if error else None))
        journal.close()
        info: dict[str, Any] = {"status": status, "ended_at": utc_now(), "peak_rss_kib": peak_rss_kib()}
        if session is not None:
            info["link"] = dict(session.transport.info)
        with contextlib.suppress(CollectorError):
            rd.update_run_info(self.masker, **info)
        self.obs.run_finished(status)
        return status, error

    def parse_outputs(self, run_dir: Path, state: RunState | None = None) -> None:
        """Structured output next to the raw, after every byte is safe; never changes the run's outcome."""
        try:
            choices = {s.index: StepChoice(s.parse, s.parse_max_bytes) for s in self.steps + self.cleanup_steps}
            report = parse_run(run_dir, platform=self.platform.name, choices=choices, state=state)
        except (Exception, KeyboardInterrupt) as exc:  # a parser must never fail or hide a run
            self.obs.notice(f"outputs not parsed ({type(exc).__name__}: {exc}); `collector parse {run_dir}` retries")
            return
        if report.outcomes:
            self.obs.notice(f"parsed {report.parsed} of {len(report.outcomes)} outputs into parsed/ "
                            f"({report.seconds:.1f}s)")

    def _final_status(self, journal: Journal) -> str:
        recs = [r for r in journal.state.ordered() if r.kind != "cleanup"]
        if any(r.status in ("error", "timeout", "failed") for r in recs):
            return "completed-with-errors"
        return "ok"

    def _run_capture(self, step: PlannedStep, link: Link, journal: Journal, rd: RunDir) -> None:
        """A long capture: the engine streams, rotates, triggers and always stops; we lend it reconnects."""
        from .capture import CaptureRunner

        assert step.capture is not None
        slow = self.platform.slow_line
        slow_ok = slow is not None and step.capture.slow_line != "off" and (
            not slow.config_mode or (step.may_change and self.ropts.allow_changes))
        engine = CaptureRunner(step, self.platform, rd, journal, self.obs, link.debug, slow_line_allowed=slow_ok)

        def reconnect(cause: str) -> Session:
            link.drop()
            return link.lost(cause)

        engine.run(link.live(), reconnect)  # journals its own step records and observer calls

    def _restore_session_state(self, session: Session, journal: Journal, debug: DebugTracker) -> None:
        for step in self.steps:
            rec = journal.state.record(step.index, "show")
            if rec is None or rec.status != "ok":
                continue
            if step.session_state or self.platform.is_session_state(step.command):
                debug.about_to_send(step.command, step=step.index)
                result = session.run(step.command, NullSink(), idle_timeout=step.idle_timeout)
                journal.write(SessionStateRestored(step=step.index, command=step.command,
                                                   raw_start=result.raw_start, raw_end=result.raw_end))


def _done(journal: Journal, step: PlannedStep) -> bool:
    rec = journal.state.record(step.index, step.kind)
    return rec is not None and rec.done


__all__ = ["Runner", "RunOptions", "RunOutcome", "ConnectionLost"]
