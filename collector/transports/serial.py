"""Serial console transport: local ttys (serial://), terminal servers (rfc2217://) and raw TCP consoles (socket://).

Opened through pyserial's serial_for_url, non-blocking, with readiness-driven reads and optional DCD watching.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import select
import time
from typing import Any

import serial

from ..errors import ConnectError, ConnectionLost, UsageError
from ..target import Target
from .base import READ_SIZE, ConnectOptions, Transport

log = logging.getLogger(__name__)

CARRIER_POLL = 0.25  # seconds between DCD checks while waiting for data
RFC2217_SLICE = 0.2  # longest single wait on the rfc2217 queue (so a dead reader thread is noticed)

_PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD,
             "M": serial.PARITY_MARK, "S": serial.PARITY_SPACE}  # fmt: skip
_STOPBITS = {"1": serial.STOPBITS_ONE, "1.5": serial.STOPBITS_ONE_POINT_FIVE, "2": serial.STOPBITS_TWO}
_FLOWS = ("none", "rtscts", "xonxoff")


def _bad(option: str, value: str, allowed: str) -> UsageError:
    return UsageError(f"bad serial option {option}={value!r}", hint=f"{option} must be one of: {allowed}")


def port_settings(options: dict[str, str]) -> dict[str, Any]:
    """pyserial keyword arguments from URL options (baud, parity, bytesize, stopbits, flow)."""
    baud_s = options.get("baud", options.get("baudrate", "9600"))
    try:
        baud = int(baud_s)
    except ValueError:
        raise _bad("baud", baud_s, "a number such as 9600 or 115200") from None
    parity = options.get("parity", "N").upper()[:1]
    if parity not in _PARITIES:
        raise _bad("parity", parity, "N, E, O, M, S")
    bytesize_s = options.get("bytesize", options.get("databits", "8"))
    if bytesize_s not in ("5", "6", "7", "8"):
        raise _bad("bytesize", bytesize_s, "5, 6, 7, 8")
    stop_s = options.get("stopbits", "1")
    if stop_s not in _STOPBITS:
        raise _bad("stopbits", stop_s, "1, 1.5, 2")
    flow = options.get("flow", "none").lower()
    if flow not in _FLOWS:
        raise _bad("flow", flow, ", ".join(_FLOWS))
    return {
        "baudrate": baud,
        "parity": _PARITIES[parity],
        "bytesize": int(bytesize_s),
        "stopbits": _STOPBITS[stop_s],
        "xonxoff": flow == "xonxoff",
        "rtscts": flow == "rtscts",
    }


def port_url(target: Target, options: ConnectOptions | None = None) -> str:
    """The pyserial URL for a target; `?port=<pyserial URL>` overrides it."""
    override = target.option("port")
    if override:
        return str(override)
    if target.scheme in ("serial", "modem"):
        return target.path
    if target.scheme == "rfc2217":
        # ser2net never acknowledges SET_CONTROL; poll_modem keeps `cd` fresh (the answer is cached 0.3 s)
        net_timeout = target.option("net_timeout", "3")
        return f"rfc2217://{target.host}:{target.port}?ign_set_control&poll_modem&timeout={net_timeout}"
    if target.scheme == "socket":
        return f"socket://{target.host}:{target.port}"
    raise UsageError(f"{target.scheme}:// is not a serial target")


class SerialTransport(Transport):
    """A byte pipe over a pyserial port; `read` waits on readiness, never spins, and raises at end of line."""

    def __init__(
        self,
        target: Target,
        options: ConnectOptions | None = None,
        *,
        url: str | None = None,
        carrier_watch: bool | None = None,
    ) -> None:
        super().__init__(target, options or ConnectOptions())
        self.url = url or port_url(target, self.options)
        self.settings = port_settings(target.options)
        if carrier_watch is None:
            carrier_watch = (target.option("carrier") or "ignore").lower() == "watch"
        self.carrier_watch = carrier_watch
        self.port: Any = None
        self._lost: str | None = None
        self._dead = False  # the port itself failed (EIO, end of stream), not just the carrier
        self._pushback = b""
        self._next_cd_check = 0.0
        self._modem_lines: bool | None = None  # None: not probed yet
        self._carrier_was_up = False
        parity = str(self.settings["parity"])
        stop = {1: "1", 1.5: "1.5", 2: "2"}[self.settings["stopbits"]]
        flow = "rtscts" if self.settings["rtscts"] else "xonxoff" if self.settings["xonxoff"] else "none"
        self.info.update(
            port=self.url.split("?", 1)[0],
            baud=self.settings["baudrate"],
            framing=f"{self.settings['bytesize']}{parity}{stop}",
            flow=flow,
        )

    # -- open / close -------------------------------------------------------------------------------------------
    def open(self) -> None:
        try:
            # timeout=0: never block in pyserial; we wait on select/queue ourselves
            self.port = serial.serial_for_url(self.url, timeout=0, **self.settings)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ConnectError(f"cannot open {self.info['port']}: {exc}") from exc
        self._lost = None
        self._dead = False
        if self._fileno() is None and self._queue() is None:
            self.port.timeout = 0.05  # fallback reads: pyserial's own wait, bounded
        log.debug(
            "opened %s (%s %s flow=%s)", self.info["port"], self.info["baud"], self.info["framing"], self.info["flow"]
        )

    def close(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def alive(self) -> bool:
        if self.port is None or self._lost or not getattr(self.port, "is_open", False):
            return False
        if self.carrier_watch:
            return not (self.carrier() is False and self._carrier_was_up)
        return True

    # -- modem lines ---------------------------------------------------------------------------------------------
    def carrier(self) -> bool | None:
        """DCD now: True/False, or None when the line has no modem lines (pty, ser2net without NOTIFY)."""
        if self.port is None or self._modem_lines is False:
            return None
        try:
            up = bool(self.port.cd)
        except (OSError, serial.SerialException) as exc:
            log.debug("no modem status lines on %s: %s", self.info["port"], exc)
            self._modem_lines = False
            return None
        self._modem_lines = True
        if up:
            self._carrier_was_up = True
        return up

    def assume_carrier_was_up(self) -> None:
        """The caller knows the carrier was up (a modem said CONNECT): a low DCD now is a drop."""
        self._carrier_was_up = True

    @property
    def lost(self) -> bool:
        """True once the port itself ended (end of stream, EIO, socket closed): only close() is left to do."""
        return self._lost is not None and self._dead

    def rearm(self) -> None:
        """After a carrier drop the port still works (the modem is in command mode): allow I/O again, unwatched."""
        if not self._dead:
            self._lost = None
            self.carrier_watch = False
            self._carrier_was_up = False

    @property
    def has_modem_lines(self) -> bool:
        self.carrier()
        return bool(self._modem_lines)

    def set_dtr(self, level: bool) -> bool:
        """Set DTR; False when the line cannot (pty: ENOTTY)."""
        if self.port is None:
            return False
        try:
            self.port.dtr = level
        except (OSError, serial.SerialException) as exc:
            log.debug("cannot set DTR on %s: %s", self.info["port"], exc)
            return False
        return True

    def send_break(self, duration: float = 0.25) -> None:
        port = self._require()
        try:
            port.send_break(duration)
        except (OSError, serial.SerialException) as exc:
            raise self._lose(f"BREAK failed: {exc}") from exc

    @property
    def line_rate(self) -> int | None:
        return int(self.settings["baudrate"])

    # -- data ----------------------------------------------------------------------------------------------------
    def unread(self, data: bytes) -> None:
        """Give bytes back so the next read returns them first (used by the modem dialer after CONNECT)."""
        self._pushback = data + self._pushback

    def read(self, timeout: float | None) -> bytes:
        if self._pushback:
            data, self._pushback = self._pushback, b""
            return data
        self._require()
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while True:
            now = time.monotonic()
            if self.carrier_watch and now >= self._next_cd_check:
                self._next_cd_check = now + CARRIER_POLL
                if self.carrier() is False and self._carrier_was_up:  # a drop; a line never up (no call yet) is not one
                    data = self._wait(0.0)  # deliver what arrived before the drop, then report it
                    if data:
                        return data
                    raise self._lose("carrier lost (DCD dropped)", dead=False)
            remaining = None if deadline is None else max(0.0, deadline - now)
            wait = remaining
            if self.carrier_watch and self._modem_lines is not False:
                wait = CARRIER_POLL if wait is None else min(wait, CARRIER_POLL)
            data = self._wait(wait)
            if data:
                return data
            if deadline is not None and time.monotonic() >= deadline:
                return b""

    def write(self, data: bytes) -> None:
        port = self._require()
        try:
            port.write(data)
        except (OSError, serial.SerialException) as exc:
            raise self._lose(f"write failed: {exc}") from exc

    # -- internals -----------------------------------------------------------------------------------------------
    def _require(self) -> Any:
        if self._lost:
            raise ConnectionLost(self._lost)
        if self.port is None:
            raise ConnectionLost(f"{self.info['port']} is not open")
        return self.port

    def _lose(self, why: str, dead: bool = True) -> ConnectionLost:
        self._lost = f"{self.info['port']}: {why}"
        self._dead = dead
        log.info("connection lost: %s", self._lost)
        return ConnectionLost(self._lost)

    def _queue(self) -> queue.Queue[bytes | None] | None:
        q = getattr(self.port, "_read_buffer", None)  # pyserial rfc2217 keeps received bytes in a Queue
        return q if isinstance(q, queue.Queue) else None

    def _fileno(self) -> int | None:
        try:
            return int(self.port.fileno())
        except (AttributeError, NotImplementedError, OSError, serial.SerialException, TypeError):
            return None

    def _wait(self, timeout: float | None) -> bytes:
        """Wait up to `timeout` for data; return what is there (maybe b''); raise ConnectionLost at end of line."""
        fd = self._fileno()
        if fd is not None:
            return self._wait_fd(fd, timeout)
        q = self._queue()
        if q is not None:
            return self._wait_queue(q, timeout)
        return self._wait_poll(timeout)

    def _wait_fd(self, fd: int, timeout: float | None) -> bytes:
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        except (OSError, ValueError) as exc:
            raise self._lose(f"select failed: {exc}") from exc
        if not ready:
            return b""
        try:
            data = self.port.read(READ_SIZE)
        except serial.SerialException as exc:  # "device reports readiness to read but returned no data", EIO
            raise self._lose(str(exc)) from exc
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EINTR):
                return b""
            raise self._lose(os.strerror(exc.errno or errno.EIO)) from exc
        if not data:
            raise self._lose("end of stream")
        return bytes(data)

    def _wait_queue(self, q: queue.Queue[bytes | None], timeout: float | None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = RFC2217_SLICE if deadline is None else min(RFC2217_SLICE, deadline - time.monotonic())
            try:
                first = q.get(True, left) if left > 0 else q.get_nowait()
                break
            except queue.Empty:
                thread = getattr(self.port, "_thread", None)
                if thread is None or not thread.is_alive():
                    raise self._lose("connection to the terminal server closed") from None
                if deadline is not None and time.monotonic() >= deadline:
                    return b""
        if first is None:  # the reader thread saw end of stream
            raise self._lose("connection to the terminal server closed")
        out = bytearray(first)
        while len(out) < READ_SIZE:
            try:
                item = q.get_nowait()
            except queue.Empty:
                break
            if item is None:
                q.put(None)  # report end of stream on the next read, after these bytes
                break
            out += item
        return bytes(out)

    def _wait_poll(self, timeout: float | None) -> bytes:
        """Ports with neither fileno nor queue: pyserial's own bounded read (timeout 0.05 s per call)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                data = self.port.read(max(1, self.port.in_waiting))
            except (OSError, serial.SerialException) as exc:
                raise self._lose(str(exc)) from exc
            if data:
                return bytes(data)
            if deadline is not None and time.monotonic() >= deadline:
                return b""
