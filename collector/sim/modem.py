"""Hayes modem emulator: AT commands, scripted dial outcomes, line-rate throttling, carrier drops, +++ and DTR.

Served on a pty pair (`start_pty()`) or behind the fakemodem:// pyserial URL handler (`register()`), same engine.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..transports.dial_policy import parse_line
from .events import EventLog
from .fakemodem import FdLink
from .modem_at import PlusEscape, parse, result_bytes
from .modem_call import Call, CallChannel
from .modem_port import ModemPort

log = logging.getLogger(__name__)

COMMAND, ONLINE, ONLINE_COMMAND = "command", "online", "online-command"


class Device(Protocol):
    def serve(self, chan: Any) -> None: ...


Outcome = str | Sequence[str]


class ModemEmulator(ModemPort):
    """An emulated Hayes modem in front of a simulated device.

    `script` gives the outcome of successive ATD commands (the last one repeats); an outcome is one result line
    ("BUSY", "CONNECT 9600/ARQ") or a list of lines (intermediate reports then the result). "SILENT" answers nothing.
    Every call drops its carrier after `drop_after_bytes` sent or `drop_after_seconds` connected (None: never),
    as a noisy line does; `line_rate_bps` throttles what the device sends. A device given as a profile is built
    once and serves every call (files it wrote stay, as on a real host).
    """

    def __init__(
        self,
        device: Any = None,
        script: Sequence[Outcome] = ("CONNECT 9600",),
        *,
        line_rate_bps: int | None = 9600,
        drop_after_bytes: int | None = None,
        drop_after_seconds: float | None = None,
        drop_mode: str = "command",
        numeric: bool = False,
        guard_time: float = 1.0,
        events: EventLog | None = None,
        reject: Sequence[str] = (),
        echo: bool = True,
        dial_delay: float = 0.0,
    ) -> None:
        if drop_mode not in ("command", "close"):
            raise ValueError("drop_mode is 'command' or 'close'")
        super().__init__()
        self.events = events if events is not None else EventLog()
        self._device_factory = self._factory(device)
        self.script = list(script)
        self.line_rate_bps = line_rate_bps
        self.drop_after_bytes = drop_after_bytes
        self.drop_after_seconds = drop_after_seconds
        self.drop_mode = drop_mode
        self.numeric = numeric
        self.guard_time = guard_time
        self.reject = {r.upper().replace(" ", "") for r in reject}
        self.initial_echo = echo
        self.dial_delay = dial_delay
        self.dials = 0
        self._dialing = False
        self.state = COMMAND
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._call: Call | None = None
        self._escape = PlusEscape()
        self._reset_settings()

    # -- set-up ------------------------------------------------------------------------------------------------
    def _factory(self, device: Any) -> Callable[[], Device]:
        if device is None or type(device).__name__ == "DeviceProfile":
            from .device import SimDevice

            shared = SimDevice(device, self.events)
            return lambda: shared
        if hasattr(device, "serve"):
            return lambda: device  # type: ignore[no-any-return]
        if callable(device):
            return device  # type: ignore[no-any-return]
        raise TypeError("device must be a DeviceProfile, an object with serve(chan), or a factory")

    # -- what tests look at ---------------------------------------------------------------------------------------
    def hangup_requests(self) -> int:
        """DTR drops + ATH commands + completed +++ escapes seen so far (every way a DTE asks to hang up)."""
        ev = self.events
        return ev.count("modem-dtr-drop") + ev.count("modem-hangup", how="ath") + ev.count("modem-escape")

    # -- engine ---------------------------------------------------------------------------------------------------
    def _reset_settings(self) -> None:
        self.echo = self.initial_echo
        self.verbose = True
        self.quiet = False
        self.s_regs: dict[int, int] = {0: 0, 2: 43, 3: 13, 7: 60, 8: 2, 10: 14, 12: 50}
        self.amp_d = 2

    def _run(self, link: FdLink) -> None:
        line = bytearray()
        drops_seen = link.dtr_drops()
        self._escape.reset(time.monotonic())
        try:
            while not self._stop.is_set():
                data = link.recv(self._timer())
                drops = link.dtr_drops()
                if drops != drops_seen:
                    drops_seen = drops
                    self._dtr_dropped()
                if data is None:  # the DTE closed the port (fakemodem) or the emulator is closing
                    self._hangup("line-closed")
                    break
                now = time.monotonic()
                self._timers(now)
                if data:
                    self._feed(data, now, line)
        except Exception:  # pragma: no cover - a crash must show up in the test log, not hang the test
            log.exception("modem emulator crashed")
        finally:
            self._hangup("line-closed")
            link.release()

    def _timer(self) -> float | None:
        now = time.monotonic()
        call = self._call
        waits = [self._escape.wait(now, self.guard_time) if self.state == ONLINE else None,
                 call.due_drop(self, now) if call is not None else None]
        present = [w for w in waits if w is not None]
        return min(present) if present else None

    def _timers(self, now: float) -> None:
        call = self._call
        if call is not None and call.due_drop(self, now) == 0.0:
            self.drop(call, "seconds")
        if self.state == ONLINE:
            escape, held = self._escape.due(now, self.guard_time)
            if escape:
                self._to_command_mode()
            elif held:
                self._to_device(held)

    def _feed(self, data: bytes, now: float, line: bytearray) -> None:
        if self.state == ONLINE:
            self._feed_online(data, now)
            return
        if self._dialing:
            self._dialing = False
            self._result("NO CARRIER")
            return
        if self.echo:
            self._send(data)
        for b in data:
            if b == self.s_regs.get(3, 13):
                text = line.decode("latin-1")
                line.clear()
                self._command_line(text)
                if self.state == ONLINE:
                    return  # bytes after ATD/ATO in the same chunk are dropped, as on a real modem
            elif b in (8, 127):
                del line[-1:]
            elif b != 10:
                line.append(b)
                del line[:-256]

    def _feed_online(self, data: bytes, now: float) -> None:
        out = self._escape.feed(data, now, self.s_regs.get(2, 43), self.guard_time)
        if out:
            self._to_device(out)

    def _to_device(self, data: bytes) -> None:
        call = self._call
        if call is None:
            return
        with call.cond:
            call.inbox += data
            call.cond.notify_all()

    def _to_command_mode(self) -> None:
        call = self._call
        self.events.record("modem-escape")
        if call is None:
            return
        with call.cond:
            call.online = False
            self.state = ONLINE_COMMAND
            call.cond.notify_all()
        self._result("OK")

    # -- output ---------------------------------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        link = self._link
        if link is None:
            return
        with self._send_lock, contextlib.suppress(OSError):
            link.send(data)

    def _result(self, text: str) -> None:
        if not self.quiet:
            self._send(result_bytes(text, self.numeric or not self.verbose))

    # -- commands -------------------------------------------------------------------------------------------------
    def _command_line(self, text: str) -> None:
        start = text.upper().rfind("AT")  # text before "AT" is ignored (a DTE's stray text, e.g. a command sent
        # as the carrier dropped)
        if start < 0:
            return
        raw = text[start:].strip()
        up = raw.upper()
        self.events.record("modem-at", command=raw)
        commands, parsed = parse(up[2:])
        for cmd in commands:
            if cmd.name == "D":
                self._dial(cmd.number)
                return
            if cmd.name == "S":
                self._register(cmd.register or 0, cmd.value)
                continue
            if (cmd.name + cmd.digits) in self.reject or cmd.name in self.reject:
                self._result("ERROR")
                return
            stop = self._apply(cmd.name, cmd.arg)
            if stop is not None:
                if stop:  # "" means the command already answered (ATO -> CONNECT)
                    self._result(stop)
                return
        self._result("OK" if parsed else "ERROR")

    def _register(self, reg: int, value: int | None) -> None:
        if value is None:
            self._send(f"\r\n{self.s_regs.get(reg, 0):03d}\r\n".encode())
            return
        self.s_regs[reg] = value
        if reg == 12:
            self.guard_time = value / 50

    def _apply(self, cmd: str, n: int) -> str | None:
        """Apply one command; returns a final result to send instead of OK (and stop parsing), or None."""
        if cmd == "E":
            self.echo = bool(n)
        elif cmd == "V":
            self.verbose = bool(n)
        elif cmd == "Q":
            self.quiet = bool(n)
        elif cmd in ("Z", "&F"):
            self._reset_settings()
        elif cmd == "&D":
            self.amp_d = n
        elif cmd == "H":
            if n == 0 and self._call is not None:
                self.events.record("modem-hangup", how="ath")
                self._end_call(self._call)
            elif n == 0:
                self.events.record("modem-hangup", how="ath", online=False)
        elif cmd == "O":
            call = self._call
            if call is None:
                return "NO CARRIER"
            self._send_connect(call)
            with call.cond:
                call.online = True
                self.state = ONLINE
                self._escape.reset(time.monotonic())
                call.cond.notify_all()
            return ""
        elif cmd == "I":
            self._send(b"\r\ncollector sim modem 1.0\r\n")
        elif cmd == "A":
            return "NO CARRIER"
        return None

    def _next_outcome(self) -> list[str]:
        if not self.script:
            return ["NO CARRIER"]
        item = self.script[min(self.dials - 1, len(self.script) - 1)]
        return [item] if isinstance(item, str) else list(item)

    def _dial(self, number: str) -> None:
        self.dials += 1
        if self._call is not None:
            self._result("ERROR")
            return
        method = {"T": "tone", "P": "pulse"}.get(number[:1], "default")
        number = number[1:] if method != "default" else number
        stay = number.endswith(";")
        lines = ["OK"] if stay else self._next_outcome()
        self.events.record("modem-dial", number=number, method=method, attempt=self.dials, outcome=" | ".join(lines))
        if self.dial_delay and self._stop.wait(self.dial_delay):
            return
        for text in lines:
            if text == "SILENT":
                self._dialing = True  # still "dialing": the next byte from the DTE aborts with NO CARRIER
                return
            parsed = parse_line(text)
            if parsed.kind == "final" and parsed.rule is not None and parsed.rule.code == "CONNECT":
                self._connect(text, parsed.rate)
                return
            self._result(text)

    def _connect(self, text: str, rate: int | None) -> None:
        call = Call(self.line_rate_bps, text)
        link = self._link
        if link is not None:
            link.set_dcd(True)
        self._escape.reset(time.monotonic())
        self._call = call
        self.state = ONLINE
        self.events.record("modem-connect", result=text, rate=rate)
        self._result(text)
        call.thread = threading.Thread(target=self._serve_call, args=(call,), name="modem-call", daemon=True)
        call.thread.start()

    def _send_connect(self, call: Call) -> None:
        self._result(call.connect_text)

    def _serve_call(self, call: Call) -> None:
        try:
            self._device_factory().serve(CallChannel(self, call))
        except Exception:  # the device thread must never take the emulator down
            log.exception("simulated device failed")
        if not call.ended.is_set():
            self.drop(call, "remote-hangup", force_command=True)

    # -- the device -> DTE path (throttled in modem_call) ------------------------------------------------------
    def write_line(self, call: Call, data: bytes) -> bool:
        link = self._link
        with self._send_lock:
            if call.ended.is_set() or link is None:
                return False
            link.send(data)
        return True

    # -- ending calls -----------------------------------------------------------------------------------------------
    def _end_call(self, call: Call) -> bool:
        with self._lock:
            if call.ended.is_set():
                return False
            with call.cond:
                call.ended.set()
                call.cond.notify_all()
            if self._call is call:
                self._call = None
            self.state = COMMAND
            link = self._link
            if link is not None:
                link.set_dcd(False)
        return True

    def drop(self, call: Call, why: str, force_command: bool = False) -> None:
        """Carrier lost: NO CARRIER, DCD low, then command mode (or the line closes)."""
        with self._send_lock:  # after any write in flight, before any later one
            if not self._end_call(call):
                return
            self.events.record(
                "modem-carrier-drop",
                why=why,
                after_bytes=call.sent,
                after_seconds=round(time.monotonic() - call.started, 3),
            )
            link = self._link
            if link is not None and not self.quiet:
                text = b"3\r" if (self.numeric or not self.verbose) else b"\r\nNO CARRIER\r\n"
                with contextlib.suppress(OSError):
                    link.send(text)
        if self.drop_mode == "close" and not force_command and link is not None:
            link.wait_drained(5.0)  # a pty hang-up discards unread input: let the DTE read NO CARRIER first
            self.events.record("modem-line-closed")
            link.close()

    def _dtr_dropped(self) -> None:
        call = self._call
        self.events.record("modem-dtr-drop", online=call is not None)
        if call is not None and self.amp_d == 2:
            self.events.record("modem-hangup", how="dtr")
            self._end_call(call)

    def _hangup(self, how: str) -> None:
        call = self._call
        if call is not None and self._end_call(call):
            self.events.record("modem-hangup", how=how)
