"""One command's output as it streams: skip the echo, hold back what could be the prompt, normalise the rest.

The reader is fed by the dialog engine; the prompt ends the command, asynchronous log lines after it do not.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..errors import ConnectionLost
from ..expect.echo import find_echo
from ..expect.prompt import MAX_PROMPT, PromptMatch, PromptMatcher
from ..expect.text import strip_for_match
from .normalize import Normalizer

HOLD = 2 * MAX_PROMPT + 8  # post-echo bytes held back so a prompt is never written into a step file
MARKER_HEAD = 4096  # error markers are looked for in the first bytes of an output
# syslog / debug lines a device prints asynchronously: "000123: *Nov 27 ...", "*Nov 27 10:00:00", "%LINK-3-UPDOWN:"
ASYNC_LINE = re.compile(
    rb"^(?:\d+: |\*?[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d|%[A-Z0-9_]+-\d-[A-Z0-9_]+:|[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d)"
)
ASYNC_WINDOW = 16384
ECHO_WAIT_UNKNOWN = 4096  # bytes to wait for an echo from a device not yet seen to echo
ECHO_WAIT_ECHOING = 1 << 16  # ... and from one that does (async log lines may come first)


class OutputSink(Protocol):
    def write(self, data: bytes) -> None: ...


class NullSink:
    def write(self, data: bytes) -> None:
        return None


@dataclass
class CommandResult:
    """What one command produced, with the raw byte range it occupies in the run's stream."""

    command: str
    raw_start: int
    raw_end: int
    bytes: int = 0
    error_marker: str | None = None
    timed_out: bool = False
    capped: bool = False
    confirm_refused: bool = False
    duration: float = 0.0
    prompt: str | None = None
    exit_status: int | None = None  # exec mode only


class CommandInterrupted(ConnectionLost):
    """The link dropped mid-command; `.partial` says what was already delivered to the sink."""

    def __init__(self, message: str, partial: CommandResult) -> None:
        super().__init__(message)
        self.partial = partial


@dataclass
class EchoMemory:
    """What the session learned about this device: does it echo what we type?"""

    echoes: bool | None = None


class CommandReader:
    """Follows one command's bytes from after its echo to its prompt, streaming normalised output to a sink."""

    def __init__(self, command: str, sink: OutputSink, matcher: PromptMatcher, normalizer: Normalizer,
                 memory: EchoMemory, raw_start: int) -> None:
        self.command = command
        self.sink = sink
        self.matcher = matcher
        self.normalizer = normalizer
        self.memory = memory
        self.result = CommandResult(command=command, raw_start=raw_start, raw_end=raw_start)
        self.head = bytearray()
        self.echo = bytearray()
        self.echo_done = False
        self.pending = bytearray()
        self.t0 = time.monotonic()

    # -- feeding -----------------------------------------------------------------------------------------
    def on_data(self, data: bytes) -> None:
        if not self.echo_done:
            data = self._after_echo(data)
            if not self.echo_done:
                return
        self.pending += data

    def _after_echo(self, data: bytes) -> bytes:
        self.echo += data
        span = find_echo(self.echo, self.command)
        if span is not None:
            rest = bytes(self.echo[span[1] :])  # the echo line ends here
            self.memory.echoes = True
        elif self.memory.echoes is not True and self.matcher.find_at_end(self.echo) is not None:
            # a device that does not echo, and a command with no output: just the prompt. (Once a device has
            # echoed, a prompt before the echo is a stale one reprinted after an async line, never the end.)
            rest = bytes(self.echo)
        elif len(self.echo) > (ECHO_WAIT_ECHOING if self.memory.echoes else ECHO_WAIT_UNKNOWN):
            rest = bytes(self.echo)  # no echo came: everything is output
        else:
            return b""
        self.echo_done = True
        self.echo.clear()
        return rest

    def until(self, tail: bytearray) -> PromptMatch | None:
        """The prompt that ends this command, once it is at the end of the output; else None."""
        if not self.echo_done:
            return None
        found = self.matcher.find_at_end(self.pending)
        if found is not None:
            self._emit(self.pending[: self._end_before_async(found)])
            self.pending.clear()
            self.result.prompt = found.text
            return found
        if len(self.pending) > HOLD:
            self._emit(self.pending[:-HOLD])
            del self.pending[:-HOLD]
        return None

    # -- ending ------------------------------------------------------------------------------------------
    def finish(self, raw_end: int, error_in: Callable[[str], str | None] | None = None) -> CommandResult:
        """Flush what is held (a timeout or a drop keeps every byte) and complete the result."""
        if self.pending:
            self._emit(self.pending)
            self.pending.clear()
        self._write(self.normalizer.flush())
        r = self.result
        r.raw_end = raw_end
        r.duration = time.monotonic() - self.t0
        if error_in is not None:
            r.error_marker = error_in(bytes(self.head).decode("utf-8", "replace"))
        return r

    def _emit(self, chunk: bytes | bytearray) -> None:
        self._write(self.normalizer.feed(bytes(chunk)))

    def _write(self, out: bytes) -> None:
        if out:
            if len(self.head) < MARKER_HEAD:
                self.head.extend(out[: MARKER_HEAD - len(self.head)])
            self.result.bytes += len(out)
            self.sink.write(out)

    def _end_before_async(self, found: PromptMatch) -> int:
        """Where the output really ended when log/debug lines and a reprinted prompt followed the prompt.

        Devices print asynchronous messages (syslog, debug) after a prompt and then reprint it; when both
        arrive in one read, the first prompt ends the command and the rest is async noise (kept in raw).
        """
        buf = self.pending
        lo = max(0, found.start - ASYNC_WINDOW)
        pos = found.start
        best = found.start
        while pos > lo:
            nl = buf.rfind(b"\n", lo, pos - 1)
            line = strip_for_match(bytes(buf[nl + 1 : pos - 1]))
            if self.matcher.is_prompt(line):
                best = nl + 1  # an earlier prompt, followed only by async lines and reprints
            elif line and not ASYNC_LINE.match(line):
                break
            if nl == -1:
                break
            pos = nl + 1
        return best
