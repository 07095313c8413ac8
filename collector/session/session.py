"""A CLI session over any transport: login, prompt learning, enable, setup, commands, exec, captures, logout.

The only code that reads a transport (through SessionStream); everything above asks this class.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

from ..credentials import Credentials
from ..errors import AuthenticationError, ConnectionLost, DeviceError
from ..expect.dialog import Dialog, DialogContext, DialogTimeout, Quiet, Statement, TooManyMatches
from ..expect.prompt import PromptMatch, PromptMatcher, quoted_split, random_prompt
from ..expect.text import last_line, strip_for_match
from ..platforms import AUTO, DeviceSetting, Platform, load_platform
from ..store.chunks import RawStream
from ..transports.base import ExecRunner, Transport
from .command import (
    MARKER_HEAD,
    CommandInterrupted,
    CommandReader,
    CommandResult,
    EchoMemory,
    NullSink,
    OutputSink,
)
from .detect import Detection, detect, host_pattern_for
from .login import enable_dialog, login_dialog
from .normalize import Normalizer
from .stream import SessionStream, Tap

SETUP_IDLE = 15.0
LOGOUT_WAIT = 2.0
PAGING_MAX = 10_000_000  # pager prompts answered in one command (a 1 GB output pages a lot)


class _Head:
    """Keeps the first 64 KiB of an output (detection and setting queries read small outputs)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        if len(self.data) < 65536:
            self.data += data[: 65536 - len(self.data)]


class Session:
    """Turns a byte transport into command results by watching for prompts."""

    def __init__(
        self,
        transport: Transport,
        platform: Platform,
        credentials: Credentials,
        raw: RawStream,
        *,
        progress: Callable[[int], None] | None = None,
        wake_after: float = 2.0,
        send_break: bool = False,
        before_change: Callable[[DeviceSetting], None] | None = None,
    ) -> None:
        self.transport = transport
        self.platform = platform
        self.creds = credentials
        self.stream = SessionStream(transport, raw, platform_return=platform.return_char, progress=progress)
        self.wake_after = wake_after
        self.send_break = send_break
        self.matcher = PromptMatcher(platform.prompt_pattern, platform.paging_patterns, platform.prompt_host)
        self.before_change = before_change  # told before a device setting is changed (the runner journals it)
        self.detection: Detection | None = None  # platform: auto: what was found after login, and why
        self.changed: list[str] = []  # device settings this session changed (names)
        self.prompt: str | None = None
        self.mode: str = "other"  # user | privileged | config | other (Platform.mode_of)
        self.prompt_kind = "learned"  # learned | unique (a per-session random prompt on shells)
        self.desynced = False
        self.setup_log: list[CommandResult] = []
        self.echo = EchoMemory()
        self._exec_runner: ExecRunner | None = None

    # -- small public API --------------------------------------------------------------------------------
    @property
    def offset(self) -> int:
        """Where the next byte read will sit in the run's raw stream."""
        return self.stream.offset

    @property
    def return_char(self) -> bytes:
        return self.stream.return_char

    def receive(self, timeout: float) -> bytes:
        """Whatever the device sends within `timeout` (stored first): the capture engine's stream."""
        return self.stream.read(timeout)

    def send_return(self) -> None:
        self.stream.write(self.return_char)

    def is_prompt(self, line: bytes) -> bool:
        return self.matcher.is_prompt(line)

    @contextlib.contextmanager
    def tap(self, clock: Callable[[], float]) -> Iterator[Tap]:
        """Keep what passes through while the block runs (see SessionStream.tap)."""
        with self.stream.tap(clock) as t:
            yield t

    # -- login ---------------------------------------------------------------------------------------------
    def open(self, timeout: float = 60.0, *, enable: bool | None = None, setup: bool = True) -> str:
        """Reach a stable prompt (through any login dialog), enable if asked, then run setup commands."""
        if self.send_break:
            self.transport.send_break()  # a console stuck in a dialog or a hung line: BREAK first
        # a shell gets a unique prompt right after: that proves the prompt, so one sighting is enough there
        prompt = self._reach_prompt(timeout, confirm_twice=not (setup and self.platform.unique_prompt))
        self._at(prompt)
        if self.platform.name == AUTO:
            host = host_pattern_for(prompt)
            if host is not None:  # a prompt with a counter: its next prompt is told by the host part
                self.matcher = PromptMatcher(self.platform.prompt_pattern, self.platform.paging_patterns, host)
                self._at(prompt)
            self.detection = detect(prompt, self._probe)
            self.adopt(load_platform(self.detection.platform))
        if self.mode == "config" and self.platform.config_exit_command:
            self.run(self.platform.config_exit_command, NullSink(), idle_timeout=SETUP_IDLE)
        want_enable = enable if enable is not None else self.creds.enable is not None
        if want_enable and self.mode == "user":
            self.enable(timeout=min(timeout, 30.0))
        if setup:
            self._unique_prompt()
            for cmd in self.platform.setup_commands:
                self.setup_log.append(self.run(cmd, NullSink(), idle_timeout=SETUP_IDLE))
            for setting in self.platform.settings:
                self._change(setting)
        return self.prompt or prompt

    def adopt(self, platform: Platform) -> None:
        """Talk as `platform` from now on (the platform `auto` detected): its prompts, pager, Return key."""
        self.platform = platform
        self.matcher = PromptMatcher(platform.prompt_pattern, platform.paging_patterns, platform.prompt_host)
        self.stream.use_return(platform.return_char)
        if self.prompt is not None:
            self._at(self.prompt)

    def _probe(self, command: str) -> tuple[CommandResult, bytes]:
        sink = _Head()
        return self.run(command, sink, idle_timeout=SETUP_IDLE), bytes(sink.data)

    def _change(self, setting: DeviceSetting) -> None:
        """A device setting collector needs changed (paging): read it, change it when needed, after telling the
        runner (which journals it first and restores it at the end)."""
        if setting.query is not None and setting.changed_if is not None:
            _, current = self._probe(setting.query)
            if not re.search(setting.changed_if, current.decode("utf-8", "replace"), re.M):
                return
        if self.before_change is not None:
            self.before_change(setting)
        for cmd in setting.apply:
            self.setup_log.append(self.run(cmd, NullSink(), idle_timeout=SETUP_IDLE))
        self.changed.append(setting.name)

    def _at(self, prompt: str) -> None:
        self.matcher.learn(prompt.encode())
        self.prompt = prompt
        self.mode = self.platform.mode_of(prompt)

    def _reach_prompt(self, timeout: float, *, confirm_twice: bool = True) -> str:
        dialog = login_dialog(self.platform, self.creds, lambda: self.return_char)
        candidate: list[bytes] = []

        def confirmed(tail: bytearray) -> str | None:
            found = self.matcher.find_at_end(tail)
            if found is None:
                return None
            line = found.text.encode()
            if not confirm_twice or (candidate and candidate[-1] == line):
                return found.text
            # confirm: a prompt seen twice in a row is a prompt, not a banner line
            candidate.append(line)
            tail.clear()
            self.send_return()
            return None

        try:
            outcome = dialog.process(self.stream, timeout=timeout, until=confirmed,
                                     quiet=Quiet(self.wake_after, lambda c: self.return_char))
        except DialogTimeout as exc:
            seen = strip_for_match(last_line(exc.tail)).decode("utf-8", "replace")[-80:]
            raise DeviceError(
                f"no CLI prompt within {timeout:.0f}s (last line seen: {seen!r})",
                hint="check the platform (--platform) and that the line is at a CLI; for consoles try --send-break",
            ) from None
        except TooManyMatches as exc:
            raise AuthenticationError(
                f"the device keeps asking ({exc.statement.name}); giving up so the account is not locked",
                hint="check credentials and the login sequence",
            ) from None
        assert outcome.value is not None
        return outcome.value

    def enable(self, timeout: float = 30.0) -> None:
        spec = self.platform.enable
        if spec is None:
            raise DeviceError(f"platform {self.platform.name} has no enable command")
        dialog = enable_dialog(spec, self.creds, lambda: self.return_char)
        self.stream.send_line(spec.command)
        try:
            outcome = dialog.process(self.stream, timeout=timeout, until=self.matcher.find_at_end)
        except DialogTimeout:
            raise DeviceError(f"no prompt within {timeout:.0f}s after `{spec.command}`") from None
        except TooManyMatches:
            raise AuthenticationError("enable secret refused", hint="check the enable secret") from None
        assert outcome.value is not None
        if self.platform.mode_of(outcome.value.text) == "user":
            raise AuthenticationError("enable was refused (still in user mode)", hint="check the enable secret")
        self._at(outcome.value.text)

    def _unique_prompt(self) -> None:
        """Shells: a random prompt only this session knows, so no output can end a command early."""
        spec = self.platform.unique_prompt
        if spec is None:
            return
        text = random_prompt()
        quoted = quoted_split(text, spec.quote_split)
        previous = (self.matcher.learned, self.prompt)
        self.matcher.make_unique(text.encode())
        result = self.run(spec.command.replace("{prompt}", quoted), NullSink(), idle_timeout=SETUP_IDLE)
        if result.timed_out:  # not a POSIX shell after all: keep the learned prompt
            self.matcher.unique = None
            if previous[0] is not None:
                self.matcher.learn(previous[0])
            self.prompt = previous[1]
            self.resync()
            return
        self.prompt_kind = "unique"
        self.prompt = text.rstrip()

    # -- commands ------------------------------------------------------------------------------------------
    def _command_dialog(self, reader: CommandReader, allow_confirm: bool) -> Dialog:
        """Replies needed mid-command: pager prompts, confirmations, and the platform's other questions."""
        p = self.platform

        def page(ctx: DialogContext) -> bytes:
            reader.normalizer.paging_active = True
            return p.paging_response.encode()

        def confirm(ctx: DialogContext) -> bytes:
            if allow_confirm:
                return b"y" + self.return_char
            reader.result.confirm_refused = True  # never confirm a change we were not allowed to make
            return p.interrupt.encode()

        table = [Statement.of(f"paging_{n}", pat, page, max_count=PAGING_MAX)
                 for n, pat in enumerate(p.paging_patterns)]
        if p.confirm_pattern:
            table.append(Statement.of("confirm", p.confirm_pattern, confirm, max_count=3))
        for n, reply in enumerate(p.command_replies):
            table.append(Statement.of(f"reply_{n}", reply.pattern, self._reply(reply.response), max_count=PAGING_MAX))
        return Dialog(table, window=512)

    def run(self, command: str, sink: OutputSink, *, idle_timeout: float, max_time: float | None = None,
            allow_confirm: bool = False, while_waiting: Callable[[], object] | None = None) -> CommandResult:
        """Send one command and stream its output (no echo, no prompt, normalised) into `sink`.

        `while_waiting` runs right after the command is sent, while the device works on it (e.g. creating the
        step file); what it raises ends the command like any other error."""
        reader = CommandReader(command, sink, self.matcher, Normalizer(self.platform.paging_patterns), self.echo,
                               self.offset)
        dialog = self._command_dialog(reader, allow_confirm)
        try:
            self.stream.send_line(command)
            if while_waiting is not None:
                while_waiting()
            outcome = dialog.process(self.stream, timeout=max_time, idle_timeout=idle_timeout,
                                     until=reader.until, on_data=reader.on_data)
        except DialogTimeout as exc:
            reader.result.timed_out = True
            reader.result.capped = not exc.idle
            self.desynced = True
        except ConnectionLost as exc:
            partial = reader.finish(self.offset, self.platform.error_in)
            raise CommandInterrupted(str(exc) or "connection lost", partial) from exc
        else:
            match: PromptMatch | None = outcome.value
            if match is not None:
                self.prompt = match.text
        return reader.finish(self.offset, self.platform.error_in)

    def exec(self, command: str, sink: OutputSink, *, idle_timeout: float,
             max_time: float | None = None) -> CommandResult:
        """One command on its own exec channel (no pty): exact bytes and the exit status.

        Nothing interprets exec bytes, so the step file is their write-ahead record: each byte is hashed once and
        written once (the raw stream is for the interactive session, whose bytes are interpreted).
        """
        runner = self._exec_runner or self.transport.exec_runner()
        if runner is None:
            raise DeviceError(f"exec mode needs an SSH target ({self.transport.target.scheme}:// has no exec "
                              "channels)", hint="set `mode: interactive` on the step")
        self._exec_runner = runner
        result = CommandResult(command=command, raw_start=self.offset, raw_end=self.offset)
        head = bytearray()

        def on_data(data: bytes) -> None:
            if self.stream.progress is not None:
                self.stream.progress(len(data))
            if len(head) < MARKER_HEAD:
                head.extend(data[: MARKER_HEAD - len(head)])
            sink.write(data)

        done = runner.run(command, on_data, idle_timeout, max_time)
        result.raw_end = self.offset
        result.bytes = done.bytes
        result.timed_out = done.timed_out
        result.capped = done.timeout_reason == "max_time"
        result.duration = done.duration
        result.exit_status = done.exit_status
        result.error_marker = self.platform.error_in(bytes(head).decode("utf-8", "replace"))
        return result

    def _reply(self, response: str) -> Callable[[DialogContext], bytes]:
        """A platform's canned answer; a newline in it (or the two characters \\n) is the Return key."""
        data = response.replace("\\n", "\n").encode().replace(b"\n", self.return_char)
        return lambda ctx: data

    def resync(self, timeout: float = 10.0) -> bool:
        """After a timeout: interrupt whatever runs and wait for the prompt again."""
        self.stream.write(self.platform.interrupt.encode())
        self.send_return()
        try:
            Dialog([]).process(self.stream, timeout=timeout, until=self.matcher.find_at_end)
        except DialogTimeout:
            return False
        self.desynced = False
        return True

    def close(self, logout: bool = True) -> None:
        """Close; on a console line (serial, modem) log out first, so no shell is left open on the port."""
        if logout and self.transport.line_rate is not None and self.prompt is not None:
            with contextlib.suppress(Exception):  # the line may already be gone; closing is what matters
                self._logout()
        self.transport.close()

    def _logout(self) -> None:
        spec = self.platform.logout
        table = [Statement.of(f"logout_{n}", r.pattern, self._reply(r.response), max_count=3)
                 for n, r in enumerate(spec.replies)]
        back = [p for p in (self.platform.login.username, self.platform.login.press_return) if p]
        table += [Statement.of("logged_out", p, loop_continue=False) for p in back]
        self.stream.send_line(spec.command)
        with contextlib.suppress(DialogTimeout, ConnectionLost):
            Dialog(table).process(self.stream, timeout=LOGOUT_WAIT)
