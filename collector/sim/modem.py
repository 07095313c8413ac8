"""Hayes modem emulator: AT commands, scripted dial outcomes, line-rate throttling, carrier drops, +++ and DTR.

Served on a pty pair (`start_pty()`) or behind the fakemodem:// pyserial URL handler (`register()`), same engine.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import threading
import time
import tty
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..transports.dial_policy import NUMERIC_CONNECT, parse_line
from .events import EventLog
from .fakemodem import FdLink, make_pair, register, unregister

log = logging.getLogger(__name__)

COMMAND, ONLINE, ONLINE_COMMAND = "command", "online", "online-command"
_NUMERIC_RESULTS = {"OK": 0, "CONNECT": 1, "RING": 2, "NO CARRIER": 3, "ERROR": 4, "NO DIALTONE": 6,
                    "NO DIAL TONE": 6, "BUSY": 7, "NO ANSWER": 8}  # fmt: skip
_RATE_CODES = {rate: code for code, rate in sorted(NUMERIC_CONNECT.items(), reverse=True)}
_KNOWN = set("ABEHILMNOQVWXZ")
_KNOWN_AMP = set("CDFHKRSVWY")
_names = itertools.count(1)


class Device(Protocol):
    def serve(self, chan: Any) -> None: ...


Outcome = str | Sequence[str]


class _Call:
    """One connected call: the device's inbox and the throttled path back to the DTE."""

    def __init__(self, rate: int | None, connect_text: str = "CONNECT") -> None:
        self.connect_text = connect_text
        self.cond = threading.Condition()
        self.inbox = bytearray()
        self.ended = threading.Event()
        self.online = True
        self.sent = 0
        self.started = time.monotonic()
        self.rate = rate
        self.thread: threading.Thread | None = None


class _CallChannel:
    """ByteChannel handed to the device for one call."""

    def __init__(self, emu: ModemEmulator, call: _Call) -> None:
        self._emu = emu
        self._call = call

    def recv(self, n: int) -> bytes:
        call = self._call
        with call.cond:
            while not call.inbox and not call.ended.is_set():
                call.cond.wait()
            if not call.inbox:
                return b""
            data = bytes(call.inbox[:n])
            del call.inbox[:n]
            return data

    def sendall(self, data: bytes) -> None:
        self._emu._device_send(self._call, bytes(data))


class ModemEmulator:
    """An emulated Hayes modem in front of a simulated device.

    `script` gives the outcome of successive ATD commands (the last one repeats); an outcome is one result line
    ("BUSY", "CONNECT 9600/ARQ") or a list of lines (intermediate reports then the result). "SILENT" answers nothing.
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
        self._stop = threading.Event()
        self._link: FdLink | None = None
        self._thread: threading.Thread | None = None
        self._call: _Call | None = None
        self._tx_next = 0.0
        self._name: str | None = None
        self.path: str | None = None
        self._reset_settings()

    # -- set-up ------------------------------------------------------------------------------------------------
    def _factory(self, device: Any) -> Callable[[], Device]:
        if device is None or type(device).__name__ == "DeviceProfile":
            from .device import SimDevice

            profile = device
            return lambda: SimDevice(profile, self.events)
        if hasattr(device, "serve"):
            return lambda: device  # type: ignore[no-any-return]
        if callable(device):
            return device  # type: ignore[no-any-return]
        raise TypeError("device must be a DeviceProfile, an object with serve(chan), or a factory")

    def start_pty(self) -> str:
        """Serve on a new pty pair; returns the slave path the collector opens as serial:// or modem://."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._start(FdLink(master, extra_fds=(slave,)))
        return self.path

    def register(self, name: str | None = None) -> str:
        """Serve behind `fakemodem://name` (modelled DTR/DCD); returns the URL."""
        self._name = name or f"modem{next(_names)}"
        return register(self._name, self)

    def attach_fake(self) -> tuple[FdLink, Any]:
        """Called by the fakemodem handler when the collector opens the port: a fresh line, the same modem."""
        self._shutdown_engine()
        self._stop.clear()
        link, dte_sock, _state = make_pair()
        self._start(link)
        return link, dte_sock

    def _start(self, link: FdLink) -> None:
        self._link = link
        self._thread = threading.Thread(target=self._run, args=(link,), name="modem-emulator", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._name:
            unregister(self._name)
        self._shutdown_engine()

    def _shutdown_engine(self) -> None:
        self._stop.set()
        link, thread = self._link, self._thread
        if link is not None:
            link.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        self._thread = None

    def __enter__(self) -> ModemEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        self._plus = 0
        self._plus_t = 0.0
        self._last_rx = time.monotonic()
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
        waits: list[float] = []
        now = time.monotonic()
        call = self._call
        if self.state == ONLINE and self._plus:
            waits.append(max(0.0, self._plus_t + self.guard_time - now))
        if call is not None and self.drop_after_seconds is not None:
            waits.append(max(0.0, call.started + self.drop_after_seconds - now))
        return min(waits) if waits else None

    def _timers(self, now: float) -> None:
        call = self._call
        if call is not None and self.drop_after_seconds is not None and now >= call.started + self.drop_after_seconds:
            self._drop(call, "seconds")
        if self.state == ONLINE and self._plus and now - self._plus_t >= self.guard_time:
            if self._plus == 3:
                self._plus = 0
                self._escape()
            else:
                self._to_device(b"+" * self._plus)
                self._plus = 0

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
        plus = self.s_regs.get(2, 43)
        out = bytearray()
        for b in data:
            if b == plus and plus <= 127:
                if self._plus == 0 and now - self._last_rx >= self.guard_time:
                    self._plus, self._plus_t = 1, now
                elif 0 < self._plus < 3 and now - self._plus_t <= self.guard_time:
                    self._plus, self._plus_t = self._plus + 1, now
                else:
                    out += b"+" * self._plus + bytes([b])
                    self._plus = 0
            else:
                out += b"+" * self._plus + bytes([b])
                self._plus = 0
            self._last_rx = now
        if out:
            self._to_device(bytes(out))

    def _to_device(self, data: bytes) -> None:
        call = self._call
        if call is None:
            return
        with call.cond:
            call.inbox += data
            call.cond.notify_all()

    def _escape(self) -> None:
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
        if self.quiet:
            return
        if self.numeric or not self.verbose:
            code = self._numeric(text)
            if code is not None:
                self._send(f"{code}\r".encode())
                return
        self._send(f"\r\n{text}\r\n".encode())

    @staticmethod
    def _numeric(text: str) -> int | None:
        up = text.upper()
        m = re.match(r"^CONNECT\s+(\d+)", up)
        if m:
            return _RATE_CODES.get(int(m.group(1)), 1)
        return _NUMERIC_RESULTS.get(up)

    # -- commands -------------------------------------------------------------------------------------------------
    def _command_line(self, text: str) -> None:
        raw = text.strip()
        up = raw.upper()
        if not up.startswith("AT"):
            return
        self.events.record("modem-at", command=raw)
        body = up[2:]
        compact = body.replace(" ", "")
        i = 0
        while i < len(compact):
            c = compact[i]
            if c == "D":
                self._dial(body[body.index("D") + 1 :].strip())
                return
            if c == "S":
                m = re.match(r"S(\d+)(=(\d*)|\?)", compact[i:])
                if not m:
                    self._result("ERROR")
                    return
                reg = int(m.group(1))
                if m.group(3) is not None:
                    self.s_regs[reg] = int(m.group(3) or 0)
                    if reg == 12:
                        self.guard_time = self.s_regs[12] / 50
                else:
                    self._send(f"\r\n{self.s_regs.get(reg, 0):03d}\r\n".encode())
                i += m.end()
                continue
            if c == "+":
                end = compact.find(";", i)
                i = len(compact) if end < 0 else end + 1
                continue
            if c == "&":
                m = re.match(r"&([A-Z])(\d*)", compact[i:])
                if not m or m.group(1) not in _KNOWN_AMP:
                    self._result("ERROR")
                    return
                cmd, arg = "&" + m.group(1), m.group(2)
                i += m.end()
            else:
                m = re.match(r"([A-Z])(\d*)", compact[i:])
                if not m or m.group(1) not in _KNOWN:
                    self._result("ERROR")
                    return
                cmd, arg = m.group(1), m.group(2)
                i += m.end()
            if (cmd + arg) in self.reject or cmd in self.reject:
                self._result("ERROR")
                return
            stop = self._apply(cmd, int(arg) if arg else 0)
            if stop is not None:
                if stop:  # "" means the command already answered (ATO -> CONNECT)
                    self._result(stop)
                return
        self._result("OK")

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
                self._last_rx = time.monotonic()
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
        call = _Call(self.line_rate_bps, text)
        link = self._link
        if link is not None:
            link.set_dcd(True)
        self._tx_next = time.monotonic()
        self._plus = 0
        self._last_rx = time.monotonic()
        self._call = call
        self.state = ONLINE
        self.events.record("modem-connect", result=text, rate=rate)
        self._result(text)
        call.thread = threading.Thread(target=self._serve_call, args=(call,), name="modem-call", daemon=True)
        call.thread.start()

    def _send_connect(self, call: _Call) -> None:
        self._result(call.connect_text)

    def _serve_call(self, call: _Call) -> None:
        try:
            self._device_factory().serve(_CallChannel(self, call))
        except Exception:  # the device thread must never take the emulator down
            log.exception("simulated device failed")
        if not call.ended.is_set():
            self._drop(call, "remote-hangup", force_command=True)

    # -- the throttled device -> DTE path ------------------------------------------------------------------------
    def _device_send(self, call: _Call, data: bytes) -> None:
        rate = (call.rate / 10.0) if call.rate else None  # 10 bits per byte on an async 8N1 line
        piece_max = max(1, int(rate / 50)) if rate else 65536  # 20 ms of line time per write
        pos = 0
        while pos < len(data):
            with call.cond:
                while not call.online and not call.ended.is_set():
                    call.cond.wait()
            if call.ended.is_set():
                raise BrokenPipeError("call ended")
            n = min(piece_max, len(data) - pos)
            if self.drop_after_bytes is not None:
                n = min(n, self.drop_after_bytes - call.sent)
                if n <= 0:
                    self._drop(call, "bytes")
                    raise BrokenPipeError("carrier dropped")
            if rate:
                delay = self._tx_next - time.monotonic()
                if delay > 0 and call.ended.wait(delay):
                    raise BrokenPipeError("call ended")
            if self.drop_after_seconds is not None and time.monotonic() >= call.started + self.drop_after_seconds:
                self._drop(call, "seconds")
                raise BrokenPipeError("carrier dropped")
            link = self._link
            with self._send_lock:
                if call.ended.is_set() or link is None:
                    raise BrokenPipeError("call ended")
                link.send(data[pos : pos + n])
            call.sent += n
            pos += n
            if rate:
                self._tx_next = max(self._tx_next, time.monotonic() - 0.02) + n / rate
            if self.drop_after_bytes is not None and call.sent >= self.drop_after_bytes:
                self._drop(call, "bytes")
                if pos < len(data):
                    raise BrokenPipeError("carrier dropped")

    # -- ending calls -----------------------------------------------------------------------------------------------
    def _end_call(self, call: _Call) -> bool:
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

    def _drop(self, call: _Call, why: str, force_command: bool = False) -> None:
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
