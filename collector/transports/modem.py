"""Dial-up modem transport: reset/init per profile, dial with the policy table and tenacity, hang up on every exit.

Mid-session carrier loss is trusted from DCD, end of stream, or (ptys) an `AT` → `OK` probe after `NO CARRIER`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from .. import units
from ..errors import ConnectionLost, UsageError
from ..target import Target
from .base import ConnectOptions, Transport
from .dial_policy import Action, DialFailed, ModemConfigError, ParsedLine, error_for, is_retryable, parse_line
from .modem_commands import ModemCommands
from .modem_profiles import ModemProfile, get_profile
from .serial import SerialTransport, port_url

log = logging.getLogger(__name__)

NO_CARRIER = b"\r\nNO CARRIER\r\n"
_DIAL_CHARS = re.compile(r"^[0-9*#A-Da-d,;!@WwTtPp+ ()\-./]+$")


def parse_duration(value: str | float, option: str = "duration") -> float:
    """'10m' → 600.0, '30s', '500ms', '1h', or plain seconds (the playbooks' duration grammar)."""
    try:
        return units.parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"bad {option}={value!r}: {exc}",
                         hint="write durations as 30s, 10m, 1h, 500ms or plain seconds") from None


class ModemTransport(Transport):
    """`modem:///dev/ttyS0?number=5551234&baud=9600&profile=generic&dial=tone&retries=2&retry_for=5m`."""

    def __init__(
        self,
        target: Target,
        options: ConnectOptions | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(target, options or ConnectOptions())
        opt = target.options
        number = (opt.get("number") or "").strip()
        if not number or not _DIAL_CHARS.match(number):
            raise UsageError(
                f"modem target needs a phone number, got {number!r}",
                hint="add ?number=5551234 (digits and the dial modifiers , W @ ; ! T P)",
            )
        self.number = number
        self.profile: ModemProfile = get_profile(opt.get("profile"))
        method = (opt.get("dial") or "tone").lower()
        if method not in ("tone", "pulse"):
            raise UsageError(f"bad dial={method!r}", hint="dial is tone or pulse")
        self.dial_prefix = self.profile.dial_tone if method == "tone" else self.profile.dial_pulse
        self.retries = self._int("retries", 2)
        self.retry_for = parse_duration(opt.get("retry_for", "5m"), "retry_for")
        self.retry_wait = parse_duration(opt.get("retry_wait", "10s"), "retry_wait")
        self.retry_wait_max = parse_duration(opt.get("retry_wait_max", "60s"), "retry_wait_max")
        self.retry_jitter = parse_duration(opt.get("retry_jitter", "5s"), "retry_jitter")
        self.dtr_hold = parse_duration(opt.get("dtr_hold", self.profile.dtr_hold), "dtr_hold")
        self.guard = parse_duration(opt.get("guard", self.profile.guard_time), "guard")
        self.command_timeout = parse_duration(opt.get("command_timeout", self.profile.command_timeout))
        self.dial_timeout = parse_duration(opt.get("dial_timeout", self.profile.dial_timeout), "dial_timeout")
        self.probe_after = parse_duration(opt.get("probe_after", "1s"), "probe_after")
        self.use_dcd = (opt.get("carrier") or "watch").lower() != "ignore"
        init = opt.get("init")
        self.init: tuple[str, ...] = (init,) if init else self.profile.init
        self._sleep = sleep or time.sleep
        self.line = SerialTransport(target, self.options, url=port_url(target, self.options), carrier_watch=False)
        self.info.update({k: v for k, v in self.line.info.items() if k != "transport"})
        self.info.update(
            modem_profile=self.profile.name, dial_method=method, dial_attempts=0, dial_results=[], dial_waits=[]
        )
        self.at = ModemCommands(self.line, self.profile.numeric_connect, self.command_timeout)
        self._connected = False
        self._tail = b""
        self._suspect_since: float | None = None
        self._drop_lf = False

    def _int(self, name: str, default: int) -> int:
        raw = self.target.options.get(name)
        try:
            return default if raw is None else max(0, int(raw))
        except ValueError:
            raise UsageError(f"bad {name}={raw!r}", hint=f"{name} is a whole number") from None

    # -- Transport API ---------------------------------------------------------------------------------------------
    def open(self) -> None:
        self.line.open()
        try:
            self._ensure_command_mode()
            self._init_modem()
            self._dial_with_retries()
        except BaseException:  # includes KeyboardInterrupt: never leave the line off-hook
            try:
                self._hangup_quietly()
            finally:
                self.line.close()
            raise
        self._connected = True
        self.line.carrier_watch = self._dcd()

    def read(self, timeout: float | None) -> bytes:
        if not self._connected:
            raise ConnectionLost("the modem is not connected")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._suspect_since is not None and not self._dcd():
                left = max(0.0, self._suspect_since + self.probe_after - time.monotonic())
                wait = left if wait is None else min(wait, left)
            try:
                data = self.line.read(wait)
            except ConnectionLost:
                self._connected = False
                raise
            if data:
                return self._got(data)
            if (
                self._suspect_since is not None
                and not self._dcd()  # with DCD the line state decides, never a probe
                and time.monotonic() >= self._suspect_since + self.probe_after
            ):
                probed = self._probe_after_no_carrier()
                if probed:
                    return self._got(probed)
            if deadline is not None and time.monotonic() >= deadline:
                return b""

    def write(self, data: bytes) -> None:
        if not self._connected:
            raise ConnectionLost("the modem is not connected")
        self.line.write(data)

    def close(self) -> None:
        try:
            if self.line.port is not None:
                self._hangup_quietly()
        finally:
            self._connected = False
            self.line.close()

    def alive(self) -> bool:
        return self._connected and self.line.alive()

    def send_break(self) -> None:
        self.line.send_break()

    @property
    def line_rate(self) -> int | None:
        rate = self.info.get("connect_rate")
        return int(rate) if rate else self.line.line_rate

    def hangup(self) -> list[str]:
        """Hang up now: DTR drop, then (if the call or the modem still looks online) +++ and ATH0."""
        methods: list[str] = []
        self.at.rx.clear()
        if self.line.lost:
            self.info["hangup"] = methods
            return methods  # the port itself is gone (pty closed, unplugged): nothing can be sent
        self.line.rearm()  # after a DCD drop the port still talks to the modem
        dtr = "dtr" in self.profile.hangup and self.line.set_dtr(False)
        if dtr:
            self._sleep(self.dtr_hold)
            self.line.set_dtr(True)
            methods.append("dtr")
            log.info("hang-up: DTR dropped for %.2f s", self.dtr_hold)
        still_up = (self.line.carrier() is True) or not self.at.probe_ok()
        if still_up and "escape" in self.profile.hangup:
            self._escape()
            self.at.command(self.profile.hangup_command)
            methods.append("escape")
            log.info("hang-up: %s with %.2f s guard, then %s", self.profile.escape, self.guard,
                     self.profile.hangup_command)  # fmt: skip
        elif not dtr:
            self.at.command(self.profile.hangup_command)  # no DTR on this line: say it explicitly
            methods.append("ath")
        self._connected = False
        self.info["hangup"] = methods
        return methods

    # -- dialing ---------------------------------------------------------------------------------------------------
    def _ensure_command_mode(self) -> None:
        if self.at.probe_ok():
            return
        log.warning("modem does not answer AT; trying DTR drop, then %s", self.profile.escape)
        if self.line.set_dtr(False):
            self._sleep(self.dtr_hold)
            self.line.set_dtr(True)
            if self.at.probe_ok():
                return
        self._escape()
        self.at.command(self.profile.hangup_command)
        if not self.at.probe_ok():
            raise ModemConfigError(
                f"the modem on {self.info['port']} does not answer AT (tried DTR drop and {self.profile.escape})",
                result="NO RESPONSE",
            )

    def _ok(self, command: str) -> ParsedLine | None:
        reply = self.at.command(command)
        return reply if reply is not None and reply.action == Action.OK else None

    def _init_modem(self) -> None:
        reset = self.at.command(self.profile.reset)
        if reset is None or reset.action != Action.OK:
            log.warning("%s answered %s; trying %s", self.profile.reset, _text(reset), self.profile.fallback_reset)
            if not self._ok(self.profile.fallback_reset):
                raise ModemConfigError(
                    f"the modem rejects {self.profile.reset} and {self.profile.fallback_reset}", result=_text(reset)
                )
        if self._init_all():
            self.info["init"] = "full"
            return
        log.warning("init rejected; retrying from factory defaults (%s)", self.profile.fallback_reset)
        if self._ok(self.profile.fallback_reset) and self._init_all():
            self.info["init"] = "factory"
            return
        if self._ok(self.profile.minimal_init):
            log.warning("modem accepts only %s: result codes may be limited", self.profile.minimal_init)
            self.info["init"] = "minimal"
            return
        raise ModemConfigError(f"the modem rejects its init string {self.init[0]!r}", result="ERROR")

    def _init_all(self) -> bool:
        return all(self._ok(cmd) for cmd in self.init)

    def _dial_with_retries(self) -> None:
        stop = stop_after_attempt(self.retries + 1) | stop_before_delay(self.retry_for)
        wait = wait_exponential_jitter(multiplier=self.retry_wait, max=self.retry_wait_max, jitter=self.retry_jitter)
        retrying = Retrying(
            stop=stop,
            wait=wait,
            retry=retry_if_exception(is_retryable),
            sleep=self._retry_sleep,
            before_sleep=self._before_redial,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._dial_once()

    def _retry_sleep(self, seconds: float) -> None:
        self.info["dial_waits"].append(round(seconds, 3))
        self._sleep(seconds)

    def _before_redial(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "dial attempt %d failed (%s); redialing in %.1f s",
            state.attempt_number,
            getattr(exc, "result", exc),
            state.upcoming_sleep,
        )

    def _dial_once(self) -> None:
        self.info["dial_attempts"] += 1
        attempt = self.info["dial_attempts"]
        command = f"{self.dial_prefix}{self.number}"
        log.info("dial attempt %d: %s", attempt, command)
        self.at.rx.clear()
        self.line.write(command.encode("ascii") + b"\r")
        deadline = time.monotonic() + self.dial_timeout
        facts: dict[str, str] = {}
        while True:
            text = self.at.next_line(deadline)
            if text is None:
                self.line.write(b"\r")  # any character aborts a dial in progress
                self.at.command("", timeout=min(self.command_timeout, 2.0), send=False, no_carrier_ok=True)
                self.info["dial_results"].append("TIMEOUT")
                raise DialFailed(f"no result from the modem within {self.dial_timeout:.0f} s", result="TIMEOUT")
            parsed = parse_line(text, self.profile.numeric_connect)
            if parsed.kind == "intermediate":
                facts.update(parsed.info)
                log.info("modem: %s", parsed.text)
                continue
            if parsed.kind != "final" or parsed.rule is None:
                continue
            action = parsed.rule.action
            if action == Action.IGNORE:
                log.info("modem: %s (ignored while dialing)", parsed.text)
                continue
            self.info["dial_results"].append(parsed.text)
            log.info("dial attempt %d: %s", attempt, parsed.text)
            if action == Action.CONNECTED:
                self._connected_with(parsed, facts)
                return
            if action == Action.OK:
                raise ModemConfigError("the modem answered OK instead of dialing (number ends with ';'?)", result="OK")
            raise error_for(parsed, self.number)

    def _connected_with(self, parsed: ParsedLine, facts: dict[str, str]) -> None:
        self.info.update(
            connect_result=parsed.text,
            connect_rate=parsed.rate,
            protocol=parsed.protocol or facts.get("protocol") or facts.get("er"),
            compression=facts.get("compression") or facts.get("dr"),
            carrier=facts.get("carrier") or facts.get("mcr"),
        )
        if self._dcd() and not self._wait_carrier(2.0):
            self.hangup()
            raise DialFailed("CONNECT reported but DCD stays low", result="NO CARRIER")
        leftover = bytes(self.at.rx)
        self.at.rx.clear()
        if leftover.startswith(b"\n") and self.at.last_term == b"\r":
            leftover = leftover[1:]
        elif not leftover and self.at.last_term == b"\r":
            self._drop_lf = True
        if leftover:
            self.line.unread(leftover)

    def _wait_carrier(self, timeout: float) -> bool:
        """DCD up after CONNECT (bytes arriving meanwhile are kept). A NO CARRIER already in them means the
        carrier was up and is gone again: accept, so that data is delivered before the drop is reported."""
        deadline = time.monotonic() + timeout
        while not self.line.carrier():
            if NO_CARRIER in self.at.rx:
                self.line.assume_carrier_was_up()
                return True
            if time.monotonic() >= deadline:
                return False
            self.at.rx += self.line.read(0.05)
        return True

    def _dcd(self) -> bool:
        """Trust DCD: the line has modem status lines and the target did not say ?carrier=ignore (DCD not wired)."""
        return self.use_dcd and self.line.has_modem_lines

    def _escape(self) -> None:
        """`+++` with S12 guard time of silence before and after; the modem answers OK in online-command state."""
        self._sleep(self.guard)
        self.at.rx.clear()
        self.line.write(self.profile.escape.encode("ascii"))
        self._sleep(self.guard)
        self.at.command("", timeout=self.command_timeout, send=False)

    def _hangup_quietly(self) -> None:
        try:
            self.hangup()
        except (ConnectionLost, OSError, UsageError, DialFailed, ModemConfigError) as exc:
            log.info("hang-up incomplete: %s", exc)

    # -- carrier loss in data mode -------------------------------------------------------------------------------------
    def _got(self, data: bytes) -> bytes:
        if self._drop_lf:
            self._drop_lf = False
            data = data[1:] if data.startswith(b"\n") else data
        window = self._tail + data
        self._tail = window[-(len(NO_CARRIER) - 1) :]
        idx = window.rfind(NO_CARRIER)
        if idx >= 0 and not window[idx + len(NO_CARRIER) :].strip():
            if self._suspect_since is None:
                log.info("NO CARRIER seen in the data: confirming with %s", "DCD" if self._dcd() else "AT")
            self._suspect_since = time.monotonic()
        elif self._suspect_since is not None and data.strip():
            self._suspect_since = None  # the device kept talking: it was just text
        return data

    def _probe_after_no_carrier(self) -> bytes:
        """Silence after NO CARRIER on a line without DCD: `AT` → `OK` proves the modem is in command mode."""
        self._suspect_since = None
        # a CR first ends any text left in the modem's line buffer (a command sent as the carrier dropped, e.g.
        # `show platform`, holds "at"): that line answers ERROR, then the probe its own OK
        self.line.write(b"\rAT\r")
        got = bytearray()
        deadline = time.monotonic() + min(self.command_timeout, 2.0)
        while time.monotonic() < deadline:
            got += self.line.read(max(0.0, deadline - time.monotonic()))
            if re.search(rb"(?:^|[\r\n])OK\r\n|^\s*0\r", bytes(got)):
                self._connected = False
                raise ConnectionLost("carrier lost (NO CARRIER, and the modem answers AT in command mode)")
        return bytes(got)  # not the modem: device output, delivered as data


def _text(parsed: ParsedLine | None) -> str:
    return parsed.text if parsed is not None else "nothing"


__all__ = ["ModemTransport", "parse_duration"]
