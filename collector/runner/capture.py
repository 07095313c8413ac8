"""The long-running capture engine: start debug, keep every line with its receive time, stop, always switch it off.

Until-conditions, debounced triggers, keepalive, rate guard, pre-check, drops (gap + resume), slow-line polling.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import CollectorError, ConnectionLost
from ..platforms import Platform
from ..session.session import Session
from ..store.capture_events import (
    CaptureGap,
    CaptureMode,
    CapturePollResync,
    CaptureStopFailed,
    CaptureStopped,
    RateGuardTripped,
)
from ..store.capture_files import CaptureFiles
from ..store.events import StepCompleted, StepInterrupted, StepStarted
from ..store.fsutil import utc_now
from ..store.journal import Journal
from ..store.rundir import RunDir
from .capture_control import CaptureControl
from .capture_lines import LineSplitter
from .capture_polls import Polls
from .capture_state import CaptureOutcome, CaptureState, Reconnect, Stop
from .capture_triggers import run_trigger
from .debug_state import DebugTracker
from .guards import RateGuard
from .observer import RunObserver
from .plan import PlannedStep
from .triggers import Firing, Triggers

TICK = 0.2  # longest read wait: stop file, stop event and rotation are looked at least this often
POLL_INTERVAL = 5.0  # buffer-poll mode: seconds between `show logging` polls
RESTART_ATTEMPTS = 3  # reconnects tried when the link drops again while the capture is restarted
STATUS_STEP = {"rate-guard": "error", "precheck-failed": "failed"}  # capture status -> step status (else ok)


class CaptureRunner:
    """Runs one capture step on a live session; see `run`."""

    def __init__(self, step: PlannedStep, platform: Platform, rundir: RunDir, journal: Journal,
                 observer: RunObserver | None = None, debug: DebugTracker | None = None, *,
                 clock: Callable[[], float] = time.monotonic, stop_event: threading.Event | None = None,
                 slow_line_allowed: bool | None = None, poll_interval: float | None = None) -> None:
        assert step.capture is not None, "a capture step carries its capture spec"
        self.s = CaptureState(step, step.capture, platform, rundir, journal, observer or RunObserver(),
                              debug or DebugTracker(platform, journal), clock, stop_event or threading.Event())
        self.spec = step.capture
        self.allow_slow_line = slow_line_allowed
        self.poll_interval = float(poll_interval or POLL_INTERVAL)
        self.triggers = Triggers(list(self.spec.on_match))
        self.splitter = LineSplitter(self._line)
        self.control = CaptureControl(self.s, self.splitter)
        self.polls = Polls(self.s, self.control, self.triggers)
        self.gaps: list[dict[str, Any]] = []
        self.keepalives = 0
        self._bytes0 = self._lines0 = 0
        self._t0 = 0.0
        self._next_stop_file = 0.0
        self._firings: list[Firing] = []
        self._rate: RateGuard | None = None
        until = self.spec.until
        self._stop_file = Path(until.stop_file).expanduser() if until.stop_file else None
        self._match = re.compile(until.match) if until.match else None

    @property
    def session(self) -> Session | None:
        return self.s.session

    # -- public ----------------------------------------------------------------------------------------------
    def run(self, session: Session, reconnect: Reconnect) -> CaptureOutcome:
        """Pre-check, start, capture until a stop condition, stop (always). See the module docstring."""
        s = self.s
        s.session, s.reconnect = session, reconnect
        s.mode, mode_reason = self._choose_mode(session)
        attempt, raw_start = s.attempt(), session.offset
        s.obs.step_started(s.step.index, s.step.name)
        s.journal.write(StepStarted(step=s.step.index, kind_of_step="capture", capture=s.name, name=s.step.name,
                                    command=f"capture {s.name}", attempt=attempt, raw_offset=raw_start,
                                    mode=s.mode))
        s.journal.write(CaptureMode(step=s.step.index, capture=s.name, mode=s.mode, reason=mode_reason))
        self._t0 = s.clock()
        if self.spec.precheck is not None and not self.control.precheck():
            return self._complete(attempt, raw_start)
        s.files = CaptureFiles(s.dir, rotate_size=self.spec.rotate.size, rotate_interval=self.spec.rotate.interval,
                               clock=s.clock, masker=s.journal.masker)
        self._bytes0, self._lines0 = s.files.bytes, s.files.lines
        guard = self.spec.rate_guard
        self._t0 = s.last_activity = s.clock()
        self._rate = RateGuard(guard.max_bytes_per_s, guard.for_, self._t0) if guard is not None else None
        error: BaseException | None = None
        try:
            self._main()
        except BaseException as exc:
            error = exc
            s.set_status("interrupted", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._finish(attempt, raw_start, error)
        return self._outcome()

    # -- mode ------------------------------------------------------------------------------------------------
    def _choose_mode(self, session: Session) -> tuple[str, str]:
        spec = self.s.platform.slow_line
        want = self.spec.slow_line
        if want == "off":
            return "stream", "slow_line: off"
        if spec is None:
            return "stream", f"platform {self.s.platform.name} has no log-buffer mode"
        if want == "buffer":
            return "buffer-poll", "slow_line: buffer"
        rate = session.transport.line_rate
        if rate is None:
            return "stream", "not a slow line"
        allowed = self.allow_slow_line
        if allowed is None:
            allowed = not spec.config_mode  # config commands need allow_changes, which only the runner knows
        if not allowed:
            return "stream", f"slow line ({rate} bps) but log-buffer mode changes the configuration (not allowed)"
        return "buffer-poll", f"slow line ({rate} bps)"

    # -- main loop -------------------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self.control.start(again=False)
        except ConnectionLost as exc:
            self._gap(exc.message)
        while True:
            try:
                if self.s.mode == "buffer-poll":
                    self._poll_loop()
                else:
                    self._stream_loop()
            except Stop:
                return
            except ConnectionLost as exc:
                if self.s.status is not None:
                    raise  # stopping already (rate guard): never restart debug
                self._gap(exc.message)

    def _until(self, now: float) -> None:
        s = self.s
        if s.status is not None:
            raise Stop()
        if s.stop_event.is_set():
            self._stop("interrupted", "stop requested (signal or user)")
        until = self.spec.until
        if until.duration is not None and now - self._t0 >= until.duration:
            self._stop("duration", f"duration {until.duration:g}s reached")
        if self._stop_file is not None and now >= self._next_stop_file:
            self._next_stop_file = now + TICK
            if self._stop_file.exists():
                self._stop("stop-file", f"stop file {self._stop_file} exists")

    def _poll_parsed(self, now: float) -> None:
        """`parsed:` triggers: poll the commands that are due; a firing runs like a line trigger's."""
        if self.polls:
            self._firings += self.polls.due(now)
            self._after_lines()

    def _stop(self, status: str, reason: str) -> None:
        self.s.set_status(status, reason)
        raise Stop()

    def _wait_for(self, now: float) -> float:
        wait = TICK
        if self.spec.until.duration is not None:
            wait = min(wait, self._t0 + self.spec.until.duration - now)
        if self.spec.keepalive is not None and self.s.mode == "stream":
            wait = min(wait, self.s.last_activity + self.spec.keepalive - now)
        return max(0.0, wait)

    def _stream_loop(self) -> None:
        s = self.s
        assert s.files is not None
        while True:
            now = s.clock()
            self._until(now)
            self._poll_parsed(now)
            data = s.live().receive(self._wait_for(now))
            now = s.clock()
            if data:
                if self._rate is not None:
                    self._rate.feed(len(data), now)
                self.splitter.feed(data, now, time.time())
                self._after_lines()
            else:
                s.files.tick(now)
            self._check_rate(now)
            if self.spec.keepalive is not None and now - s.last_activity >= self.spec.keepalive:
                s.live().send_return()
                self.keepalives += 1
                s.last_activity = now

    def _poll_loop(self) -> None:
        s = self.s
        assert s.files is not None
        next_poll = s.clock() + self.poll_interval
        while True:
            now = s.clock()
            self._until(now)
            self._poll_parsed(now)
            if now < next_poll:
                # unsolicited bytes (a console still logging) are kept in the raw stream only
                s.live().receive(min(self._wait_for(now), next_poll - now))
                s.files.tick(s.clock())
                continue
            new, found = self.control.new_poll_lines()
            now, utc = s.clock(), time.time()
            if not found:
                s.journal.write(CapturePollResync(step=s.step.index, capture=s.name, lines=len(new),
                                                  cause="last-seen marker not in the log buffer"))
            if self._rate is not None:
                self._rate.feed(sum(len(x) + 1 for x in new), now)
            for line in new:
                self._line(line, now, utc)
            self._after_lines()
            self._check_rate(s.clock())
            next_poll = s.clock() + self.poll_interval

    def _check_rate(self, now: float) -> None:
        if self._rate is not None:
            rate = self._rate.check(now)
            if rate is not None:
                self._rate_trip(rate)

    # -- lines -----------------------------------------------------------------------------------------------
    def _line(self, line: bytes, mono: float, utc: float) -> None:
        s = self.s
        assert s.files is not None
        if not line.strip() or (len(line) <= 300 and s.session is not None and s.session.is_prompt(line)):
            return  # blank lines and prompts redrawn after a log message or a keepalive are not captured
        s.files.append(line, mono, utc)
        s.last_activity = max(s.last_activity, mono)
        text: str | None = None
        if self._match is not None or self.triggers:
            text = line.decode("utf-8", "replace")
        if self.triggers and text is not None:
            self._firings += self.triggers.check(text, mono)
        if self._match is not None and text is not None and self._match.search(text):
            s.set_status("stopped-by-match", f"line matched {self._match.pattern!r}: {text[:200]}")
        cap = self.spec.until.bytes
        if cap is not None and s.files.bytes - self._bytes0 >= cap:
            s.set_status("bytes", f"{cap} bytes captured")

    def _flush_pending(self) -> None:
        status = self.s.status
        self.splitter.flush((self.s.clock(), time.time()))
        if status is None and self.s.status is not None:  # a partial line at the end does not stop anything
            self.s.status, self.s.reason = None, ""

    def _after_lines(self) -> None:
        """Run triggers that fired (after the lines that fired them are on disk), then honour a stop."""
        s = self.s
        assert s.files is not None
        if self._firings:
            s.files.flush()
        while self._firings:
            firing = self._firings.pop(0)
            run_trigger(s, self.control, self.triggers, firing)
            if firing.trigger.spec.then == "stop":
                s.set_status("stopped-by-trigger",
                             f"trigger {firing.trigger.number} ({firing.trigger.spec.condition!r}) says then: stop")
        if s.status is not None:
            raise Stop()

    # -- safety and drops ------------------------------------------------------------------------------------
    def _rate_trip(self, rate: float) -> None:
        s = self.s
        guard = self.spec.rate_guard
        assert guard is not None
        s.status = "rate-guard"
        s.reason = (f"stream at {rate:,.0f} B/s for {guard.for_:g}s, above the limit of "
                    f"{guard.max_bytes_per_s:,} B/s: stop commands sent at once")
        s.journal.write(RateGuardTripped(step=s.step.index, capture=s.name, rate=round(rate, 1),
                                         limit=guard.max_bytes_per_s, seconds=guard.for_))
        s.obs.notice(f"capture {s.name}: RATE GUARD: {s.reason}")
        self.control.stop("rate-guard")
        raise Stop()

    def _gap(self, cause: str) -> None:
        """The link dropped: seal what we have, reconnect, restart the capture, record the gap."""
        s = self.s
        assert s.files is not None
        self._flush_pending()
        s.files.rotate("gap")
        began, began_utc = s.clock(), utc_now()
        lines_before = s.files.lines - self._lines0
        raw = s.session.offset if s.session is not None else None
        s.journal.write(CaptureGap(step=s.step.index, capture=s.name, phase="start", cause=cause,
                                   lines_before=lines_before, raw_offset=raw))
        s.obs.notice(f"capture {s.name}: connection lost ({cause}); reconnecting")
        for tries in range(RESTART_ATTEMPTS):
            s.new_session(cause)  # the runner reconnects and switches debug off; the restart turns it on
            try:
                self.control.start(again=True)
                break
            except ConnectionLost as exc:
                cause = f"while restarting the capture: {exc.message}"
                if tries == RESTART_ATTEMPTS - 1:
                    raise
        seconds = round(s.clock() - began, 3)
        self.gaps.append({"start": began_utc, "end": utc_now(), "seconds": seconds, "cause": cause,
                          "lines_before": lines_before})
        s.journal.write(CaptureGap(step=s.step.index, capture=s.name, phase="end", seconds=seconds,
                                   lines_before=lines_before, raw_offset=s.live().offset))

    # -- end -------------------------------------------------------------------------------------------------
    def _finish(self, attempt: int, raw_start: int, error: BaseException | None) -> None:
        """Always: keep the last partial line, seal the open file, send the stop commands, journal the end."""
        s = self.s
        try:
            if s.files is not None:
                self._flush_pending()
                s.files.close()
        finally:
            s.set_status("ok", "capture ended")
            try:
                self.control.stop(s.status or "ok")
            except (CollectorError, OSError) as exc:
                cause = exc.message if isinstance(exc, CollectorError) else repr(exc)
                s.journal.write(CaptureStopFailed(step=s.step.index, capture=s.name, cause=cause))
                self._interrupted(attempt, f"stop commands not sent: {cause}")
                raise
            lines, nbytes = self._captured()
            s.journal.write(CaptureStopped(step=s.step.index, capture=s.name, status=s.status or "ok",
                                           reason=s.reason, lines=lines, bytes=nbytes, files=self._files(),
                                           gaps=len(self.gaps), triggers_fired=self.triggers.fired,
                                           keepalives=self.keepalives, mode=s.mode))
            if error is not None and not isinstance(error, Stop):
                self._interrupted(attempt, s.reason)
            else:
                self._complete(attempt, raw_start)

    def _interrupted(self, attempt: int, cause: str) -> None:
        s = self.s
        s.journal.write(StepInterrupted(step=s.step.index, kind_of_step="capture", capture=s.name, attempt=attempt,
                                        cause=cause, raw_end=s.session.offset if s.session else None,
                                        bytes=self._captured()[1]))

    def _complete(self, attempt: int, raw_start: int) -> CaptureOutcome:
        s = self.s
        status = s.status or "ok"
        step_status = STATUS_STEP.get(status, "ok")
        lines, nbytes = self._captured()
        duration = s.clock() - self._t0
        s.journal.write(StepCompleted(
            step=s.step.index, kind_of_step="capture", capture=s.name, status=step_status, attempt=attempt,
            name=s.step.name, command=f"capture {s.name}", file=f"captures/{s.slug}/index.jsonl", bytes=nbytes,
            lines=lines, capture_status=status, reason=s.reason, raw_start=raw_start,
            raw_end=s.session.offset if s.session else None, duration=round(duration, 6), mode=s.mode))
        s.obs.step_finished(s.step.index, s.step.name, step_status, nbytes, duration)
        return self._outcome()

    def _captured(self) -> tuple[int, int]:
        files = self.s.files
        if files is None:
            return 0, 0
        return files.lines - self._lines0, files.bytes - self._bytes0

    def _files(self) -> list[str]:
        files = self.s.files
        return [] if files is None else [f"captures/{self.s.slug}/{seal.file}" for seal in files.seals]

    def _outcome(self) -> CaptureOutcome:
        lines, nbytes = self._captured()
        s = self.s
        return CaptureOutcome(status=s.status or "ok", lines=lines, bytes=nbytes, files=self._files(),
                              gaps=list(self.gaps), triggers_fired=self.triggers.fired, reason=s.reason,
                              mode=s.mode, keepalives=self.keepalives, trigger_files=list(s.trigger_files))


__all__ = ["CaptureOutcome", "CaptureRunner"]
