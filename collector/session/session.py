"""A CLI session over any transport: login, prompt learning, enable, paging setup, running commands.

Every byte read goes to the raw stream first; command output streams to a sink with a bounded tail.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..credentials import Credentials
from ..errors import AuthenticationError, ConnectionLost, DeviceError
from ..store.chunks import RawStream
from ..transports.base import Transport
from .dialog import Dialog, DialogContext, Statement
from .hop import check_hop_closed, check_hop_failure, hop_through_shell
from .login import build_login_dialog
from .normalize import Normalizer, last_line, strip_for_match
from .prompt import MAX_PROMPT, PromptMatcher

HOLD = 2 * MAX_PROMPT + 8  # post-echo bytes held back so a prompt is never written into a step file
MARKER_HEAD = 4096  # error markers are looked for in the first bytes of an output
DEFAULT_PROMPT = r"[\w.\-@()/:~\[\] ]{1,80}[>#$%] ?"
# syslog / debug lines a device prints asynchronously: "000123: *Nov 27 ...", "*Nov 27 10:00:00", "%LINK-3-UPDOWN:"
ASYNC_LINE = re.compile(
    rb"^(?:\d+: |\*?[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d|%[A-Z0-9_]+-\d-[A-Z0-9_]+:|[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d)"
)
ASYNC_WINDOW = 16384
ECHO_WAIT_UNKNOWN = 4096  # bytes to wait for an echo from a device not yet seen to echo
ECHO_WAIT_ECHOING = 1 << 16  # ... and from one that does (async log lines may come first)
CONFIRM = re.compile(rb"(?:\[confirm\]|\[yes/no\]|\[y/n\]|\(y/n\)|\[no\]|\? \[y(?:es)?\])\s*:?\s*$", re.IGNORECASE)


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


def _attr(obj: Any, name: str, default: Any) -> Any:
    value = getattr(obj, name, None)
    return default if value is None else value


class Session:
    """Turns a byte transport into command results by watching for prompts."""

    def __init__(
        self,
        transport: Transport,
        platform: Any,
        credentials: Credentials,
        raw: RawStream,
        *,
        progress: Callable[[int], None] | None = None,
        wake_after: float = 2.0,
    ) -> None:
        self.transport = transport
        self.platform = platform
        self.creds = credentials
        self.raw = raw
        self.progress = progress
        self.wake_after = wake_after
        self._platform_return = _attr(platform, "return_char", "\n").encode()
        self.paging = list(_attr(platform, "paging_patterns", []))
        self.matcher = PromptMatcher(_attr(platform, "prompt_pattern", DEFAULT_PROMPT), self.paging)
        self.error_markers = [m.encode() for m in _attr(platform, "error_markers", [])]
        self.prompt: str | None = None
        self.desynced = False
        self.setup_log: list[CommandResult] = []
        self.jump_prompt: PromptMatcher | None = None  # set in jump shell mode
        self.echoes: bool | None = None  # learned: does this device echo what we type?

    @property
    def return_char(self) -> bytes:
        """The Return key; a transport may know better (Telnet in BINARY mode reads CR LF as two Returns)."""
        key = getattr(self.transport, "return_key", None)
        return key if isinstance(key, bytes) and key else self._platform_return

    # -- bytes ---------------------------------------------------------------------------
    def _read(self, timeout: float) -> bytes:
        data = self.transport.read(max(0.0, timeout))
        if data:
            self.raw.append(data)
            if self.progress is not None:
                self.progress(len(data))
        return data

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def send_line(self, text: str) -> None:
        self.write(text.encode() + self.return_char)

    # -- login ---------------------------------------------------------------------------
    def open(self, timeout: float = 60.0, *, enable: bool | None = None, setup: bool = True) -> str:
        """Reach a stable prompt (through any login dialog), enable if asked, then run setup commands."""
        dialog = build_login_dialog(self.platform, self.creds, lambda: self.return_char)
        if self.transport.options.extra.get("send_break"):
            self.transport.send_break()  # a console stuck in a dialog or a hung line: BREAK first
        hop = self.transport.info.get("hop_command")
        if hop:  # jump host in shell mode: its own ssh/telnet client carries us to the device
            self.jump_prompt = hop_through_shell(self, str(hop), min(timeout, 30.0))
        prompt = self._reach_prompt(dialog, timeout)
        self.matcher.learn(prompt.encode())
        self.prompt = prompt
        want_enable = enable if enable is not None else self.creds.enable is not None
        if want_enable and self._is_user_mode(prompt):
            self.enable(timeout=min(timeout, 30.0))
        if setup:
            for cmd in _attr(self.platform, "setup_commands", []):
                self.setup_log.append(self.run(cmd, NullSink(), idle_timeout=15.0))
        return self.prompt or prompt

    def _is_user_mode(self, prompt: str) -> bool:
        enable_cfg = getattr(self.platform, "enable", None)
        return bool(enable_cfg) and prompt.rstrip().endswith(">")

    def _reach_prompt(self, dialog: Dialog, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        tail = bytearray()
        ctx = DialogContext()
        wakes = 0
        candidate: bytes | None = None
        last_data = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                seen = strip_for_match(last_line(tail)).decode("utf-8", "replace")[-80:]
                raise DeviceError(
                    f"no CLI prompt within {timeout:.0f}s (last line seen: {seen!r})",
                    hint="check the platform (--platform) and that the line is at a CLI; for consoles try --break",
                )
            wait = min(deadline - now, max(0.05, self.wake_after - (now - last_data)))
            data = self._read(wait)
            if not data:
                if time.monotonic() - last_data >= self.wake_after and wakes < 6:
                    # a quiet line (console, or a prompt we have not recognised yet): send RETURN
                    wakes += 1
                    last_data = time.monotonic()
                    tail.clear()
                    self.write(self.return_char)
                continue
            last_data = time.monotonic()
            tail += data
            if len(tail) > 8192:
                del tail[:-8192]
            if self.jump_prompt is not None:
                check_hop_failure(bytes(tail))
            found = self.matcher.find_at_end(tail)
            if found is not None:
                line = found.text.encode()
                if candidate == line:
                    return found.text
                # confirm: a prompt seen twice in a row is a prompt, not a banner line
                candidate = line
                tail.clear()
                self.write(self.return_char)
                continue
            st = dialog.match(tail, ctx)
            if st is not None:
                if ctx.counts[st.name] > st.max_matches:
                    raise AuthenticationError(
                        f"the device keeps asking ({st.name}); giving up so the account is not locked",
                        hint="check credentials and the login sequence",
                    )
                answer = st.action(ctx) if st.action else None
                tail.clear()
                candidate = None
                if answer:
                    self.write(answer)

    def enable(self, timeout: float = 30.0) -> None:
        enable_cfg = getattr(self.platform, "enable", None)
        command = _attr(enable_cfg, "command", "enable") if enable_cfg is not None else "enable"
        pw_prompt = _attr(enable_cfg, "password_prompt", r"pass(?:word)?\s*:\s*$") if enable_cfg else r"password:\s*$"

        def answer(ctx: DialogContext) -> bytes:
            if self.creds.enable is None:
                raise AuthenticationError(
                    "the device asks for an enable secret and none was given",
                    hint="pass --enable-env VAR or --ask-enable",
                )
            if ctx.counts.get("enable_password", 0) > 1:
                raise AuthenticationError("enable secret refused", hint="check the enable secret")
            return self.creds.enable.reveal().encode() + self.return_char

        def refused(ctx: DialogContext) -> bytes | None:
            raise AuthenticationError("enable secret refused by the device", hint="check the enable secret")

        dialog = Dialog([
            Statement.of("enable_refused", r"(?:% ?access denied|% ?bad secrets|% ?error in authentication)[\s\S]*$",
                         refused),
            Statement.of("enable_password", pw_prompt, answer, max_matches=2),
        ])
        self.send_line(command)
        deadline = time.monotonic() + timeout
        tail = bytearray()
        ctx = DialogContext()
        while time.monotonic() < deadline:
            data = self._read(deadline - time.monotonic())
            if not data:
                continue
            tail += data
            found = self.matcher.find_at_end(tail)
            if found is not None and not found.text.endswith(">"):
                self.matcher.learn(found.text.encode())
                self.prompt = found.text
                return
            if found is not None:
                raise AuthenticationError("enable was refused (still in user mode)", hint="check the enable secret")
            st = dialog.match(tail, ctx)
            if st is not None and st.action is not None:
                out = st.action(ctx)
                tail.clear()
                if out:
                    self.write(out)
        raise DeviceError(f"no privileged prompt within {timeout:.0f}s after `{command}`")

    # -- commands ------------------------------------------------------------------------
    def run(
        self,
        command: str,
        sink: OutputSink,
        *,
        idle_timeout: float,
        max_time: float | None = None,
        allow_confirm: bool = False,
    ) -> CommandResult:
        """Send one command and stream its output (no echo, no prompt, normalised) into `sink`."""
        result = CommandResult(command=command, raw_start=self.raw.offset, raw_end=self.raw.offset)
        normalizer = Normalizer(self.paging)
        head = bytearray()
        t0 = time.monotonic()
        last_byte = t0
        echo = bytearray()
        echo_done = False
        pending = bytearray()
        matcher = self.matcher
        cmd_head = command.encode()[:24]

        def emit(chunk: bytes | bytearray) -> None:
            out = normalizer.feed(bytes(chunk))
            if out:
                if len(head) < MARKER_HEAD:
                    head.extend(out[: MARKER_HEAD - len(head)])
                result.bytes += len(out)
                sink.write(out)

        def finish() -> CommandResult:
            tail_out = normalizer.flush()
            if tail_out:
                result.bytes += len(tail_out)
                if len(head) < MARKER_HEAD:
                    head.extend(tail_out[: MARKER_HEAD - len(head)])
                sink.write(tail_out)
            result.raw_end = self.raw.offset
            result.duration = time.monotonic() - t0
            result.error_marker = self._marker(bytes(head))
            return result

        try:
            self.write(command.encode() + self.return_char)
            while True:
                now = time.monotonic()
                wait = idle_timeout - (now - last_byte)
                if max_time is not None:
                    wait = min(wait, max_time - (now - t0))
                if wait <= 0:
                    result.timed_out = True
                    result.capped = max_time is not None and now - t0 >= max_time
                    emit(pending)
                    self.desynced = True
                    return finish()
                data = self._read(wait)
                if not data:
                    continue
                last_byte = time.monotonic()
                if not echo_done:
                    echo += data
                    at = echo.find(cmd_head)
                    nl = echo.find(b"\n", at) if at != -1 else -1
                    if nl != -1:
                        data, echo_done = bytes(echo[nl + 1 :]), True  # the echo line ends here
                        self.echoes = True
                    elif at == -1 and self.echoes is not True and matcher.find_at_end(echo) is not None:
                        # a device that does not echo, and a command with no output: just the prompt.
                        # (once a device has echoed, a prompt before the echo is a stale one reprinted
                        # after an asynchronous log line, never the end of this command)
                        data, echo_done = bytes(echo), True
                    elif len(echo) > (ECHO_WAIT_ECHOING if self.echoes else ECHO_WAIT_UNKNOWN):
                        data, echo_done = bytes(echo), True  # no echo came: everything is output
                    else:
                        continue
                    echo.clear()
                pending += data
                found = matcher.find_at_end(pending)
                if self.jump_prompt is not None and self.jump_prompt.find_at_end(pending) is not None:
                    check_hop_closed(bytes(pending[-MAX_PROMPT * 2 :]))
                if found is not None:
                    end = self._end_before_async(pending, found.start)
                    emit(pending[:end])
                    result.prompt = found.text
                    self.prompt = found.text
                    return finish()
                last = last_line(pending[-MAX_PROMPT:])
                if matcher.paging is not None and matcher.paging_at_end(last):
                    normalizer.paging_active = True
                    self.write(b" ")
                elif CONFIRM.search(strip_for_match(last)):
                    if allow_confirm:
                        self.write(b"y" + self.return_char)
                    else:
                        # never confirm a change we were not allowed to make: abort the dialog
                        result.confirm_refused = True
                        self.write(b"\x03")
                if len(pending) > HOLD:
                    emit(pending[:-HOLD])
                    del pending[:-HOLD]
        except ConnectionLost as exc:
            emit(pending)
            partial = finish()
            raise CommandInterrupted(str(exc) or "connection lost", partial) from exc

    def _end_before_async(self, buf: bytearray, prompt_start: int) -> int:
        """Where the output really ended when log/debug lines and a reprinted prompt followed the prompt.

        Devices print asynchronous messages (syslog, debug) after a prompt and then reprint it; when both
        arrive in one read, the first prompt ends the command and the rest is async noise (kept in raw).
        """
        lo = max(0, prompt_start - ASYNC_WINDOW)
        pos = prompt_start
        best = prompt_start
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

    def _marker(self, head: bytes) -> str | None:
        for marker in self.error_markers:
            if marker in head:
                return marker.decode("utf-8", "replace")
        return None

    def resync(self, timeout: float = 10.0) -> bool:
        """After a timeout: interrupt whatever runs and wait for the prompt again."""
        interrupt = _attr(self.platform, "interrupt", "\x03").encode()
        self.write(interrupt)
        self.write(self.return_char)
        deadline = time.monotonic() + timeout
        tail = bytearray()
        while time.monotonic() < deadline:
            data = self._read(deadline - time.monotonic())
            tail += data
            if len(tail) > 8192:
                del tail[:-8192]
            if data and self.matcher.find_at_end(tail) is not None:
                self.desynced = False
                return True
        return False

    def close(self, logout: bool = True) -> None:
        """Close; on a console line (serial, modem) log out first, so no shell is left open on the port."""
        if logout and self.transport.line_rate is not None and self.prompt is not None:
            with contextlib.suppress(Exception):  # the line may already be gone; closing is what matters
                self.write(_attr(self.platform, "logout_command", "exit").encode() + self.return_char)
        self.transport.close()
