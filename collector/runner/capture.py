"""The long-running capture engine: start debug, keep every line with its receive time, stop, always switch it off.

Until-conditions, debounced triggers, keepalive, rate guard, pre-check, drops (gap + resume), slow-line polling.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CollectorError, ConnectionLost
from ..session.session import NullSink, Session
from ..store.capture_files import CaptureFiles
from ..store.fsutil import utc_now
from ..store.journal import Journal
from ..store.rundir import RunDir, slugify
from ..store.stepfile import StepFile
from .capture_io import Collect, Tee, is_debug_off, is_debug_on, new_log_lines
from .guards import RateGuard, evaluate_precheck
from .observer import RunObserver
from .plan import PlannedStep
from .triggers import Firing, Triggers

TICK = 0.2  # longest read wait: stop file, stop event and rotation are looked at least this often
COMMAND_IDLE = 30.0  # idle timeout of start/stop/slow-line commands
POLL_INTERVAL = 5.0  # buffer-poll mode: seconds between `show logging` polls
MARKER_LINES = 3  # buffer-poll mode: lines of the previous poll that locate the new ones
MAX_LINE = 64 * 1024  # a longer run of bytes without a newline is stored as pieces of this size
RESTART_ATTEMPTS = 3  # reconnects tried when the link drops again while the capture is restarted
STATUS_STEP = {"rate-guard": "error", "precheck-failed": "failed"}  # capture status -> step status (else ok)

_MONITOR = re.compile(r"^\s*term\w*\s+mon\w*\s*$", re.IGNORECASE)


@dataclass
class CaptureOutcome:
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


class _Stop(Exception):
    """Internal: a stop condition was reached (self.status says which)."""


class CaptureRunner:
    """Runs one capture step on a live session; see `run`."""

    def __init__(
        self,
        step: PlannedStep,
        platform: Any,
        rundir: RunDir,
        journal: Journal,
        observer: RunObserver | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        stop_event: threading.Event | None = None,
        slow_line_allowed: bool | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.step = step
        self.spec = step.spec
        self.platform = platform
        self.rundir = rundir
        self.journal = journal
        self.obs = observer or RunObserver()
        self.clock = clock
        self.stop_event = stop_event or threading.Event()
        self.allow_slow_line = slow_line_allowed if slow_line_allowed is not None else step.extra.get(
            "slow_line_allowed")
        self.poll_interval = float(poll_interval or step.extra.get("poll_interval") or POLL_INTERVAL)
        self.slug = slugify(self.spec.capture, 64)
        self.dir: Path = rundir.captures_dir / self.slug
        self.triggers = Triggers(list(self.spec.on_match))
        self.session: Session | None = None
        self.reconnect: Callable[[str], Session] | None = None
        self.files: CaptureFiles | None = None
        self.mode = "stream"
        self.status: str | None = None
        self.reason = ""
        self.gaps: list[dict[str, Any]] = []
        self.keepalives = 0
        self.trigger_files: list[str] = []
        self.debug_on = False
        self.stop_sent = False
        self._pending = bytearray()
        self._pending_at: tuple[float, float] | None = None
        self._bytes0 = 0
        self._lines0 = 0
        self._t0 = 0.0
        self._last_activity = 0.0
        self._next_stop_file = 0.0
        self._firings: list[Firing] = []
        self._marker: list[bytes] = []
        self._rate: RateGuard | None = None
        self._stop_file = Path(self.spec.until.stop_file).expanduser() if self.spec.until.stop_file else None
        self._match = re.compile(self.spec.until.match) if self.spec.until.match else None

    # -- helpers ---------------------------------------------------------------------------------------------
    def _live(self) -> Session:
        if self.session is None:
            raise ConnectionLost("no session")
        return self.session

    def _j(self, event: str, *, durable: bool = False, **fields: Any) -> None:
        self.journal.write(event, durable=durable, step=self.step.index, capture=self.spec.capture, **fields)

    def _command(self, command: str, sink: Any = None, *, idle: float = COMMAND_IDLE) -> Any:
        session = self._live()
        result = session.run(command, sink if sink is not None else NullSink(), idle_timeout=idle)
        if result.timed_out and not session.resync():
            raise ConnectionLost(f"no prompt after `{command}` timed out")
        return result

    def _attempt(self) -> int:
        rec = self.rundir.state().steps.get(("main", self.step.index))
        return len(rec.attempts) + 1 if rec is not None else 1

    # -- public ----------------------------------------------------------------------------------------------
    def run(self, session: Session, reconnect: Callable[[str], Session]) -> CaptureOutcome:
        """Pre-check, start, capture until a stop condition, stop (always). See the module docstring."""
        self.session = session
        self.reconnect = reconnect
        self.mode, mode_reason = self._choose_mode(session)
        attempt = self._attempt()
        raw_start = session.raw.offset
        self.obs.step_started(self.step.index, self.step.name)
        self._j("step-started", name=self.step.name, command=f"capture {self.spec.capture}", kind="capture",
                attempt=attempt, raw_offset=raw_start, mode=self.mode)
        self._j("capture-mode", mode=self.mode, reason=mode_reason, durable=True)
        self._t0 = self.clock()
        if self.spec.precheck is not None and not self._precheck():
            return self._complete(attempt, raw_start)
        self.files = CaptureFiles(self.dir, rotate_size=self.spec.rotate.size,
                                  rotate_interval=self.spec.rotate.interval, clock=self.clock,
                                  masker=self.journal.masker)
        self._bytes0, self._lines0 = self.files.bytes, self.files.lines
        guard = self.spec.rate_guard
        self._t0 = self._last_activity = self.clock()
        self._rate = RateGuard(guard.max_bytes_per_s, guard.for_, self._t0) if guard is not None else None
        error: BaseException | None = None
        try:
            self._main()
        except BaseException as exc:
            error = exc
            if self.status is None:
                self.status = "interrupted"
                self.reason = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._finish(attempt, raw_start, error)
        return self._outcome()

    # -- mode and pre-check ----------------------------------------------------------------------------------
    def _choose_mode(self, session: Session) -> tuple[str, str]:
        spec = getattr(self.platform, "slow_line", None)
        want = self.spec.slow_line
        if want == "off":
            return "stream", "slow_line: off"
        if spec is None:
            return "stream", f"platform {getattr(self.platform, 'name', '?')} has no log-buffer mode"
        if want == "buffer":
            return "buffer-poll", "slow_line: buffer"
        rate = getattr(session.transport, "line_rate", None)
        if rate is None:
            return "stream", "not a slow line"
        allowed = self.allow_slow_line
        if allowed is None:
            allowed = not spec.config_mode  # config commands need allow_changes, which only the runner knows
        if not allowed:
            return "stream", f"slow line ({rate} bps) but log-buffer mode changes the configuration (not allowed)"
        return "buffer-poll", f"slow line ({rate} bps)"

    def _precheck(self) -> bool:
        spec = self.spec.precheck
        name = f"{self.step.index:03d}-{self.slug}-precheck-{slugify(spec.command, 40)}.txt"
        for tries in range(2):
            sink = StepFile(self.rundir.step_path(name), masker=self.journal.masker)
            name = sink.final.name  # a secret in the command is masked out of the file name
            collect = Collect(tee=sink)
            try:
                result = self._command(spec.command, collect, idle=self.step.idle_timeout)
            except ConnectionLost as exc:
                sink.keep_partial(tries + 1)
                if tries:
                    raise
                with contextlib.suppress(Exception):
                    self._live().close()
                self.session = None
                self.session = self._reconnect(f"during the pre-check: {exc.message}")
                continue
            sink.finish()
            verdict = evaluate_precheck(spec, collect.data.decode("utf-8", "replace"))
            self._j("capture-precheck", command=spec.command, ok=verdict.ok, value=verdict.value,
                    reason=verdict.reason, file=f"steps/{name}", raw_start=result.raw_start, raw_end=result.raw_end,
                    durable=True)
            if not verdict.ok:
                self.status, self.reason = "precheck-failed", verdict.reason
                self.obs.notice(f"capture {self.spec.capture} not started: {verdict.reason}")
            return verdict.ok
        return False  # pragma: no cover

    # -- start / stop ----------------------------------------------------------------------------------------
    def _reconnect(self, cause: str) -> Session:
        assert self.reconnect is not None
        return self.reconnect(cause)

    def _start(self, again: bool) -> None:
        if self.mode == "buffer-poll":
            self._slow_line("enable")
            self._marker = self._poll_lines()[-MARKER_LINES:] if not again else self._marker
        sent = []
        for cmd in self.spec.start:
            if self.mode == "buffer-poll" and _MONITOR.match(cmd):
                continue  # the point of buffer mode: debug is not streamed to this line
            if is_debug_on(cmd) and not self.debug_on:
                self.debug_on = True  # journaled before it is sent: a crash right after still gets debug off
                self._j("debug-on", command=cmd, durable=True)
            with Tee(self._live(), self.clock) as tee:
                result = self._command(cmd)
            if self.mode == "stream":  # the command's output and debug lines that raced it belong to the capture
                self._ingest_around(tee, cmd, after=True)
            sent.append(cmd)
            if result.error_marker:
                self._j("capture-start-error", command=cmd, error_marker=result.error_marker)
        self._j("capture-restarted" if again else "capture-started", commands=sent, dir=f"captures/{self.slug}",
                mode=self.mode, durable=True)
        self._last_activity = self.clock()

    def _slow_line(self, which: str) -> None:
        spec = self.platform.slow_line
        cmds = list(spec.enable if which == "enable" else spec.disable)
        if spec.config_mode:
            cmds = ["configure terminal", *cmds, "end"]
        for cmd in cmds:
            self._command(cmd)
        self._j(f"slow-line-{which}d", commands=cmds)

    def _send_stop(self, why: str) -> None:
        """Run the stop commands now (once); one reconnect is tried if the link is gone."""
        if self.stop_sent:
            return
        cmds = list(self.spec.stop)
        if self.debug_on and not any(is_debug_off(c) for c in cmds):
            cmds += [c for c in getattr(self.platform, "debug_off_commands", []) or [] if is_debug_off(c)]
        for tries in range(2):
            try:
                for cmd in cmds:
                    self._command(cmd)
                    if is_debug_off(cmd) and self.debug_on:
                        self.debug_on = False
                        self._j("debug-off", command=cmd, reason=why)
                if self.mode == "buffer-poll":
                    self._slow_line("disable")
                break
            except ConnectionLost as exc:
                if tries:
                    raise
                with contextlib.suppress(Exception):
                    if self.session is not None:
                        self.session.close()
                self.session = None
                self.session = self._reconnect(f"while stopping capture {self.spec.capture}: {exc.message}")
        self.stop_sent = True
        self._j("capture-stop-sent", commands=cmds, reason=why, durable=True)

    # -- main loop -------------------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._start(again=False)
        except ConnectionLost as exc:
            self._gap(exc.message)
        while True:
            try:
                if self.mode == "buffer-poll":
                    self._poll_loop()
                else:
                    self._stream_loop()
            except _Stop:
                return
            except ConnectionLost as exc:
                if self.status is not None:
                    raise  # stopping already (rate guard): never restart debug
                self._gap(exc.message)

    def _until(self, now: float) -> None:
        if self.status is not None:
            raise _Stop()
        if self.stop_event.is_set():
            self._stop("interrupted", "stop requested (signal or user)")
        until = self.spec.until
        if until.duration is not None and now - self._t0 >= until.duration:
            self._stop("duration", f"duration {until.duration:g}s reached")
        if self._stop_file is not None and now >= self._next_stop_file:
            self._next_stop_file = now + TICK
            if self._stop_file.exists():
                self._stop("stop-file", f"stop file {self._stop_file} exists")

    def _stop(self, status: str, reason: str) -> None:
        if self.status is None:
            self.status, self.reason = status, reason
        raise _Stop()

    def _wait_for(self, now: float) -> float:
        wait = TICK
        if self.spec.until.duration is not None:
            wait = min(wait, self._t0 + self.spec.until.duration - now)
        if self.spec.keepalive is not None and self.mode == "stream":
            wait = min(wait, self._last_activity + self.spec.keepalive - now)
        return max(0.0, wait)

    def _stream_loop(self) -> None:
        assert self.files is not None
        while True:
            now = self.clock()
            self._until(now)
            data = self._live()._read(self._wait_for(now))
            now = self.clock()
            if data:
                if self._rate is not None:
                    self._rate.feed(len(data), now)
                self._ingest(data, now, time.time())
                self._after_lines()
            else:
                self.files.tick(now)
            if self._rate is not None:
                rate = self._rate.check(now)
                if rate is not None:
                    self._rate_trip(rate)
            if self.spec.keepalive is not None and now - self._last_activity >= self.spec.keepalive:
                session = self._live()
                session.write(session.return_char)
                self.keepalives += 1
                self._last_activity = now

    def _poll_loop(self) -> None:
        assert self.files is not None
        next_poll = self.clock() + self.poll_interval
        while True:
            now = self.clock()
            self._until(now)
            if now < next_poll:
                # unsolicited bytes (a console still logging) are kept in the raw stream only
                self._live()._read(min(self._wait_for(now), next_poll - now))
                self.files.tick(self.clock())
                continue
            lines = self._poll_lines()
            now, utc = self.clock(), time.time()
            new, found = new_log_lines(self._marker, lines)
            if not found:
                self._j("capture-poll-resync", lines=len(new), cause="last-seen marker not in the log buffer")
            if lines:
                self._marker = lines[-MARKER_LINES:]
            data = b"".join(x + b"\n" for x in new)
            if self._rate is not None:
                self._rate.feed(len(data), now)
            for line in new:
                self._line(line, now, utc)
            self._after_lines()
            if self._rate is not None:
                rate = self._rate.check(self.clock())
                if rate is not None:
                    self._rate_trip(rate)
            next_poll = self.clock() + self.poll_interval

    def _poll_lines(self) -> list[bytes]:
        collect = Collect()
        self._command(self.platform.slow_line.poll, collect, idle=self.step.idle_timeout)
        return [x.rstrip(b"\r") for x in bytes(collect.data).split(b"\n") if x.strip()]

    # -- lines -----------------------------------------------------------------------------------------------
    def _ingest(self, data: bytes, mono: float, utc: float) -> None:
        """Split received bytes into lines; a line's receive time is when its first byte arrived."""
        start = 0
        if not self._pending:
            self._pending_at = (mono, utc)
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            piece = data[start:nl]
            if self._pending:
                self._pending += piece
                line = bytes(self._pending)
                self._pending.clear()
                at = self._pending_at or (mono, utc)
            else:
                line, at = piece, (mono, utc)
            self._line(line.rstrip(b"\r"), at[0], at[1])
            start = nl + 1
        if start < len(data):
            if not self._pending:
                self._pending_at = (mono, utc)
            self._pending += data[start:]
            if len(self._pending) > MAX_LINE:  # a stream without newlines: keep it in bounded pieces
                at = self._pending_at or (mono, utc)
                piece = bytes(self._pending)
                self._pending.clear()
                self._line(piece, at[0], at[1])

    def _ingest_around(self, tee: Tee, command: str, *, after: bool) -> None:
        """Lines a command's read loop saw: before its echo line (and after it, with `after`); never the echo."""
        before, rest = tee.around_echo(command)
        for data, mono, utc in before:
            self._ingest(data, mono, utc)
        self._pending.clear()  # what is left before the echo is the prompt the command was typed at
        for data, mono, utc in rest if after else []:
            self._ingest(data, mono, utc)

    def _line(self, line: bytes, mono: float, utc: float) -> None:
        assert self.files is not None
        if not line.strip() or (len(line) <= 300 and self._live_matcher_is_prompt(line)):
            return  # blank lines and prompts redrawn after a log message or a keepalive are not captured
        self.files.append(line, mono, utc)
        self._last_activity = max(self._last_activity, mono)
        text: str | None = None
        if self._match is not None or self.triggers:
            text = line.decode("utf-8", "replace")
        if self.triggers and text is not None:
            self._firings += self.triggers.check(text, mono)
        if self._match is not None and text is not None and self._match.search(text) and self.status is None:
            self.status, self.reason = "stopped-by-match", f"line matched {self._match.pattern!r}: {text[:200]}"
        cap = self.spec.until.bytes
        if cap is not None and self.status is None and self.files.bytes - self._bytes0 >= cap:
            self.status, self.reason = "bytes", f"{cap} bytes captured"

    def _live_matcher_is_prompt(self, line: bytes) -> bool:
        session = self.session
        return session is not None and session.matcher.is_prompt(line)

    def _flush_pending(self) -> None:
        if self._pending:
            at = self._pending_at or (self.clock(), time.time())
            line = bytes(self._pending).rstrip(b"\r")
            self._pending.clear()
            status = self.status
            self._line(line, at[0], at[1])
            if status is None and self.status is not None:  # a partial line at the end does not stop anything
                self.status, self.reason = None, ""

    def _after_lines(self) -> None:
        """Run triggers that fired (after the lines that fired them are on disk), then honour a stop."""
        assert self.files is not None
        if self._firings:
            self.files.flush()
        while self._firings:
            firing = self._firings.pop(0)
            self._run_trigger(firing)
            if firing.trigger.spec.then == "stop" and self.status is None:
                self.status = "stopped-by-trigger"
                self.reason = f"trigger {firing.trigger.number} ({firing.trigger.spec.match!r}) says then: stop"
        if self.status is not None:
            raise _Stop()

    def _run_trigger(self, firing: Firing) -> None:
        t = firing.trigger
        self._j("trigger-fired", trigger=t.number, run=firing.run, line=firing.line[:500],
                commands=list(t.spec.run), capture_line=self.files.lines if self.files else None, durable=True)
        self.obs.notice(f"capture {self.spec.capture}: trigger {t.number} fired ({firing.line[:80]!r})")
        used: set[str] = set()
        try:
            for cmd in t.spec.run:
                base = f"{self.step.index:03d}-{self.slug}-trigger-{t.number}-{firing.run}-{slugify(cmd, 40)}"
                name = base if base not in used else f"{base}-{len(used) + 1}"
                used.add(name)
                fname = f"{name}.txt"
                sink = StepFile(self.rundir.step_path(fname), masker=self.journal.masker)
                fname = sink.final.name  # a secret in the command is masked out of the file name
                session = self._live()
                tee = Tee(session, self.clock)
                try:
                    with tee:
                        result = session.run(cmd, sink, idle_timeout=self.step.idle_timeout,
                                             max_time=self.step.max_time)
                except ConnectionLost as exc:
                    partial = sink.keep_partial(1)
                    self._j("trigger-step-interrupted", kind="trigger", trigger=t.number, run=firing.run,
                            command=cmd, partial_file=f"steps/{partial.name}", bytes=sink.bytes, cause=exc.message)
                    raise
                except BaseException:
                    sink.keep_partial(1)
                    raise
                sink.finish()
                self._ingest_around(tee, cmd, after=False)  # debug lines that arrived just before the echo
                self.trigger_files.append(f"steps/{fname}")
                status = "timeout" if result.timed_out else ("error" if result.error_marker else "ok")
                self._j("trigger-step-completed", kind="trigger", trigger=t.number, run=firing.run, command=cmd,
                        name=f"{self.spec.capture} trigger {t.number}.{firing.run}: {cmd}", status=status,
                        file=f"steps/{fname}", bytes=sink.bytes, sha256=sink.sha256, raw_start=result.raw_start,
                        raw_end=result.raw_end, error_marker=result.error_marker, timed_out=result.timed_out,
                        duration=round(result.duration, 6))
                if result.timed_out and not session.resync():
                    raise ConnectionLost(f"no prompt after trigger command `{cmd}` timed out")
        finally:
            self.triggers.done(firing, self.clock())
            self._last_activity = self.clock()

    # -- safety and drops ------------------------------------------------------------------------------------
    def _rate_trip(self, rate: float) -> None:
        guard = self.spec.rate_guard
        self.status = "rate-guard"
        self.reason = (f"stream at {rate:,.0f} B/s for {guard.for_:g}s, above the limit of "
                       f"{guard.max_bytes_per_s:,} B/s: stop commands sent at once")
        self._j("rate-guard", rate=round(rate, 1), limit=guard.max_bytes_per_s, seconds=guard.for_, durable=True)
        self.obs.notice(f"capture {self.spec.capture}: RATE GUARD: {self.reason}")
        self._send_stop("rate-guard")
        raise _Stop()

    def _gap(self, cause: str) -> None:
        """The link dropped: seal what we have, reconnect, restart the capture, record the gap."""
        assert self.files is not None
        self._flush_pending()
        self.files.rotate("gap")
        began, began_utc = self.clock(), utc_now()
        lines_before = self.files.lines - self._lines0
        raw = self.session.raw.offset if self.session is not None else None
        self._j("capture-gap", phase="start", cause=cause, lines_before=lines_before, raw_offset=raw, durable=True)
        self.obs.notice(f"capture {self.spec.capture}: connection lost ({cause}); reconnecting")
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()
        self.session = None
        self.debug_on = False  # the reconnect switches debug off; the restart switches it on again
        for tries in range(RESTART_ATTEMPTS):
            self.session = self._reconnect(cause)
            try:
                self._start(again=True)
                break
            except ConnectionLost as exc:
                cause = f"while restarting the capture: {exc.message}"
                with contextlib.suppress(Exception):
                    self.session.close()
                self.session = None
                if tries == RESTART_ATTEMPTS - 1:
                    raise
        gap = {"start": began_utc, "end": utc_now(), "seconds": round(self.clock() - began, 3), "cause": cause,
               "lines_before": lines_before}
        self.gaps.append(gap)
        self._j("capture-gap", phase="end", seconds=gap["seconds"], lines_before=lines_before,
                raw_offset=self._live().raw.offset, durable=True)

    # -- end -------------------------------------------------------------------------------------------------
    def _finish(self, attempt: int, raw_start: int, error: BaseException | None) -> None:
        """Always: keep the last partial line, seal the open file, send the stop commands, journal the end."""
        try:
            if self.files is not None:
                self._flush_pending()
                self.files.close()
        finally:
            if self.status is None:
                self.status, self.reason = "ok", "capture ended"
            try:
                self._send_stop(self.status)
            except (CollectorError, OSError) as exc:
                cause = exc.message if isinstance(exc, CollectorError) else repr(exc)
                self._j("capture-stop-failed", cause=cause, durable=True)
                self._j("step-interrupted", kind="capture", attempt=attempt, cause=f"stop commands not sent: {cause}",
                        raw_end=self.session.raw.offset if self.session else None, bytes=self._captured()[1])
                raise
            self._j("capture-stopped", status=self.status, reason=self.reason, lines=self._captured()[0],
                    bytes=self._captured()[1], files=self._files(), gaps=len(self.gaps),
                    triggers_fired=self.triggers.fired, keepalives=self.keepalives, mode=self.mode, durable=True)
            if error is not None and not isinstance(error, _Stop):
                self._j("step-interrupted", kind="capture", attempt=attempt, cause=self.reason,
                        raw_end=self.session.raw.offset if self.session else None, bytes=self._captured()[1])
            else:
                self._complete(attempt, raw_start)

    def _complete(self, attempt: int, raw_start: int) -> CaptureOutcome:
        status = self.status or "ok"
        step_status = STATUS_STEP.get(status, "ok")
        lines, nbytes = self._captured()
        duration = self.clock() - self._t0
        self._j("step-completed", kind="capture", status=step_status, attempt=attempt, name=self.step.name,
                command=f"capture {self.spec.capture}", file=f"captures/{self.slug}/index.jsonl", bytes=nbytes,
                lines=lines, capture_status=status, reason=self.reason, raw_start=raw_start,
                raw_end=self.session.raw.offset if self.session else None, duration=round(duration, 6),
                mode=self.mode, durable=True)
        self.obs.step_finished(self.step.index, self.step.name, step_status, nbytes, duration)
        return self._outcome()

    def _captured(self) -> tuple[int, int]:
        if self.files is None:
            return 0, 0
        return self.files.lines - self._lines0, self.files.bytes - self._bytes0

    def _files(self) -> list[str]:
        if self.files is None:
            return []
        names = [s.file for s in self.files.seals]
        return [f"captures/{self.slug}/{n}" for n in names]

    def _outcome(self) -> CaptureOutcome:
        lines, nbytes = self._captured()
        return CaptureOutcome(status=self.status or "ok", lines=lines, bytes=nbytes, files=self._files(),
                              gaps=list(self.gaps), triggers_fired=self.triggers.fired, reason=self.reason,
                              mode=self.mode, keepalives=self.keepalives, trigger_files=list(self.trigger_files))


__all__ = ["CaptureOutcome", "CaptureRunner", "is_debug_off", "is_debug_on", "new_log_lines"]
