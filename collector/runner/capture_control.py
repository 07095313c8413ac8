"""The commands a capture sends: the pre-check, start (debug on), stop (debug off, always), log-buffer mode.

Debug-on is journaled before it is sent; lines that raced a start command stay in the capture.
"""

from __future__ import annotations

import re

from ..errors import ConnectionLost
from ..session.stream import Tap
from ..store.capture_events import (
    CapturePrecheck,
    CaptureRestarted,
    CaptureStarted,
    CaptureStartError,
    CaptureStopSent,
    SlowLineDisabled,
    SlowLineEnabled,
)
from ..store.rundir import slugify
from ..store.stepfile import StepFile
from .capture_io import Collect, new_log_lines
from .capture_lines import LineSplitter
from .capture_state import CaptureState
from .guards import evaluate_precheck

MARKER_LINES = 3  # buffer-poll mode: lines of the previous poll that locate the new ones
_MONITOR = re.compile(r"^\s*term\w*\s+mon\w*\s*$", re.IGNORECASE)


class CaptureControl:
    """Sends a capture's control commands on the state's live session."""

    def __init__(self, state: CaptureState, splitter: LineSplitter) -> None:
        self.s = state
        self.splitter = splitter
        self.marker: list[bytes] = []  # buffer-poll mode: the last lines seen in the log buffer
        self.stop_sent = False

    # -- pre-check -------------------------------------------------------------------------------------
    def precheck(self) -> bool:
        s = self.s
        spec = s.spec.precheck
        assert spec is not None
        name = f"{s.step.index:03d}-{s.slug}-precheck-{slugify(spec.sent, 40)}.txt"
        for tries in range(2):
            sink = StepFile(s.rundir.step_path(name), masker=s.journal.masker)
            name = sink.final.name  # a secret in the command is masked out of the file name
            collect = Collect(tee=sink)
            try:
                result = s.command(spec.sent, collect, idle=s.step.idle_timeout)
            except ConnectionLost as exc:
                sink.keep_partial(tries + 1)
                if tries:
                    raise
                s.new_session(f"during the pre-check: {exc.message}")
                continue
            sink.finish()
            verdict = evaluate_precheck(spec, collect.data.decode("utf-8", "replace"), s.platform.name)
            s.journal.write(CapturePrecheck(step=s.step.index, capture=s.name, command=spec.sent, ok=verdict.ok,
                                            value=verdict.value, reason=verdict.reason, file=f"steps/{name}",
                                            raw_start=result.raw_start, raw_end=result.raw_end))
            if not verdict.ok:
                s.set_status("precheck-failed", verdict.reason)
                s.obs.notice(f"capture {s.name} not started: {verdict.reason}")
            return verdict.ok
        return False  # pragma: no cover

    # -- start / stop ----------------------------------------------------------------------------------
    def start(self, again: bool) -> None:
        s = self.s
        if s.mode == "buffer-poll":
            self.slow_line("enable")
            self.marker = self.poll_lines()[-MARKER_LINES:] if not again else self.marker
        sent = []
        for cmd in s.spec.start:
            if s.mode == "buffer-poll" and _MONITOR.match(cmd):
                continue  # the point of buffer mode: debug is not streamed to this line
            s.debug.about_to_send(cmd, step=s.step.index, capture=s.name)
            with s.live().tap(s.clock) as tap:
                result = s.command(cmd)
            if s.mode == "stream":  # the command's output and debug lines that raced it belong to the capture
                self.ingest_around(tap, cmd, after=True)
            sent.append(cmd)
            if result.error_marker:
                s.journal.write(CaptureStartError(step=s.step.index, capture=s.name, command=cmd,
                                                  error_marker=result.error_marker))
        event = CaptureRestarted if again else CaptureStarted
        s.journal.write(event(step=s.step.index, capture=s.name, commands=sent, dir=f"captures/{s.slug}",
                              mode=s.mode))
        s.last_activity = s.clock()

    def ingest_around(self, tap: Tap, command: str, *, after: bool) -> None:
        """Lines a command's read loop saw: before its echo line (and after it, with `after`); never the echo."""
        before, rest = tap.around_echo(command)
        self.splitter.feed_chunks(before)
        self.splitter.drop_partial()  # what is left before the echo is the prompt the command was typed at
        if after:
            self.splitter.feed_chunks(rest)

    def slow_line(self, which: str) -> None:
        s = self.s
        spec = s.platform.slow_line
        assert spec is not None
        cmds = list(spec.enable if which == "enable" else spec.disable)
        if spec.config_mode:
            cmds = ["configure terminal", *cmds, "end"]
        for cmd in cmds:
            s.command(cmd)
        event = SlowLineEnabled if which == "enable" else SlowLineDisabled
        s.journal.write(event(step=s.step.index, capture=s.name, commands=cmds))

    def stop(self, why: str) -> None:
        """Run the stop commands now (once); one reconnect is tried if the link is gone."""
        s = self.s
        if self.stop_sent:
            return
        cmds = list(s.spec.stop)
        if s.debug.on and not any(s.platform.debug_change(c) == "off" for c in cmds):
            cmds += s.platform.debug_off_for(s.debug.switched_on)
        for tries in range(2):
            try:
                for cmd in cmds:
                    result = s.command(cmd)
                    s.debug.sent(cmd, not result.error_marker, reason=why, step=s.step.index, capture=s.name)
                if s.mode == "buffer-poll":
                    self.slow_line("disable")
                break
            except ConnectionLost as exc:
                if tries:
                    raise
                s.new_session(f"while stopping capture {s.name}: {exc.message}")
        self.stop_sent = True
        s.journal.write(CaptureStopSent(step=s.step.index, capture=s.name, commands=cmds, reason=why))

    # -- buffer-poll mode ------------------------------------------------------------------------------
    def poll_lines(self) -> list[bytes]:
        collect = Collect()
        assert self.s.platform.slow_line is not None
        self.s.command(self.s.platform.slow_line.poll, collect, idle=self.s.step.idle_timeout)
        return [x.rstrip(b"\r") for x in bytes(collect.data).split(b"\n") if x.strip()]

    def new_poll_lines(self) -> tuple[list[bytes], bool]:
        """Lines added to the log buffer since the last poll, and whether the last-seen marker was found."""
        lines = self.poll_lines()
        new, found = new_log_lines(self.marker, lines)
        if lines:
            self.marker = lines[-MARKER_LINES:]
        return new, found
