"""A pyserial URL handler `fakemodem://NAME` whose port has modelled DTR/DCD, wired to a ModemEmulator.

Ptys have no modem lines; this handler does, so DTR-drop hang-ups and DCD carrier loss are tested for real.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import termios
import threading
import time
import types
from typing import Any, Protocol
from urllib.parse import urlsplit

import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException, Timeout

SCHEME = "fakemodem"
_HANDLER_PKG = "collector.sim._fakemodem_urls"


class LineState:
    """RS-232 control lines between DTE (collector) and DCE (emulated modem)."""

    def __init__(self, on_change: Any = None) -> None:
        self.dtr = False
        self.rts = False
        self.dcd = False
        self.dsr = True
        self.cts = True
        self.ri = False
        self.breaks = 0
        self._on_change = on_change

    dtr_drops = 0  # high→low transitions, so a short pulse is never missed by the engine

    def set_dtr(self, level: bool) -> None:
        if level != self.dtr:
            self.dtr = level
            if not level:
                self.dtr_drops += 1
            if self._on_change:
                self._on_change()


class FdLink:
    """The emulator's end of the wire: one fd (pty master or socket), a wake-up pipe, optional modem lines."""

    def __init__(self, fd: int, *, state: LineState | None = None, extra_fds: tuple[int, ...] = ()) -> None:
        self.fd = fd
        self.state = state
        self._extra_fds = extra_fds  # closed with the link (e.g. the pty slave the emulator keeps open)
        os.set_blocking(fd, False)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.closed = False
        self._fd_closed = False
        self._close_lock = threading.Lock()

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except OSError:
            pass

    def recv(self, timeout: float | None) -> bytes | None:
        """Bytes from the DTE; b'' on timeout or wake-up; None when the line is closed."""
        if self.closed:
            return None
        try:
            ready, _, _ = select.select([self.fd, self._wake_r], [], [], timeout)
        except (OSError, ValueError):
            return None
        if self._wake_r in ready:
            self._drain_wake()
        if self.closed:
            return None
        if self.fd not in ready:
            return b""
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:  # pty: no slave open right now; wait for the wake-up or the next open
                ready, _, _ = select.select([self._wake_r], [], [], 0.05 if timeout is None else min(timeout, 0.05))
                return b""
            return None
        return data if data else None

    def send(self, data: bytes) -> None:
        """Write everything (blocking politely on a full buffer); OSError once the line is closed."""
        view = memoryview(data)
        while view:
            if self.closed:
                raise BrokenPipeError("line closed")
            try:
                n = os.write(self.fd, view)
                view = view[n:]
            except BlockingIOError:
                select.select([self._wake_r], [self.fd], [], 0.5)
                self._drain_wake()

    def wait_drained(self, timeout: float) -> None:
        """Poll (with a deadline) until the DTE has read everything we wrote: pty slave input queue empty."""
        if not self._extra_fds:
            return
        deadline = time.monotonic() + timeout
        empty_checks = 0
        while time.monotonic() < deadline and empty_checks < 3:
            try:
                buf = fcntl.ioctl(self._extra_fds[0], termios.FIONREAD, struct.pack("I", 0))
            except OSError:
                return
            empty_checks = empty_checks + 1 if struct.unpack("I", buf)[0] == 0 else 0
            time.sleep(0.01)

    @property
    def dcd(self) -> bool | None:
        return self.state.dcd if self.state else None

    def set_dcd(self, up: bool) -> None:
        if self.state is not None:
            self.state.dcd = up

    def dtr(self) -> bool | None:
        return self.state.dtr if self.state else None

    def dtr_drops(self) -> int:
        return self.state.dtr_drops if self.state else 0

    def close(self) -> None:
        """Mark closed and wake the engine; the fds are released by `release()` from the engine thread."""
        self.closed = True
        self.wake()

    def release(self) -> None:
        with self._close_lock:
            if self._fd_closed:
                return
            self._fd_closed = True
            for fd in (self.fd, *self._extra_fds, self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)


class _Attachable(Protocol):
    def attach_fake(self) -> tuple[FdLink, socket.socket]: ...


_REGISTRY: dict[str, _Attachable] = {}
_REG_LOCK = threading.Lock()


def register(name: str, emulator: _Attachable) -> str:
    """Make `fakemodem://name` open a line to `emulator`; returns the URL."""
    install_handler()
    with _REG_LOCK:
        _REGISTRY[name] = emulator
    return f"{SCHEME}://{name}"


def unregister(name: str) -> None:
    with _REG_LOCK:
        _REGISTRY.pop(name, None)


def install_handler() -> None:
    """Register this module with pyserial as the handler of fakemodem:// URLs (idempotent)."""
    if _HANDLER_PKG not in sys.modules:  # a namespace just for pyserial's handler lookup (it imports it first)
        pkg = types.ModuleType(_HANDLER_PKG)
        pkg.__path__ = []
        sys.modules[_HANDLER_PKG] = pkg
    sys.modules.setdefault(f"{_HANDLER_PKG}.protocol_{SCHEME}", sys.modules[__name__])
    if _HANDLER_PKG not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(_HANDLER_PKG)


class Serial(SerialBase):
    """pyserial port class for fakemodem:// (found by serial_for_url through protocol_handler_packages)."""

    is_open: bool
    _link: FdLink | None = None
    _sock: socket.socket | None = None

    def open(self) -> None:
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise SerialException("Port is already open.")
        name = self.from_url(str(self._port))
        with _REG_LOCK:
            emulator = _REGISTRY.get(name)
        if emulator is None:
            raise SerialException(f"could not open port {self._port}: no fake modem named {name!r}")
        self._link, self._sock = emulator.attach_fake()
        self.is_open = True
        self._update_dtr_state()
        self._update_rts_state()

    def from_url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme != SCHEME:
            raise SerialException(f"expected a string in the form {SCHEME}://NAME, not {url!r}")
        return parts.netloc or parts.path.lstrip("/")

    def close(self) -> None:
        if self.is_open and self._link is not None and self._sock is not None:
            if self._link.state is not None:
                self._link.state.set_dtr(False)  # HUPCL: closing the port drops DTR
            with contextlib.suppress(OSError):
                self._sock.close()
            self._link.wake()
        self.is_open = False
        self._sock = None

    def _reconfigure_port(self) -> None:
        pass

    def _state(self) -> LineState:
        if not self.is_open or self._link is None or self._link.state is None:
            raise PortNotOpenError()
        return self._link.state

    @property
    def in_waiting(self) -> int:
        if not self.is_open or self._sock is None:
            raise PortNotOpenError()
        buf = fcntl.ioctl(self._sock.fileno(), termios.FIONREAD, struct.pack("I", 0))
        return int(struct.unpack("I", buf)[0])

    def read(self, size: int = 1) -> bytes:
        if not self.is_open or self._sock is None:
            raise PortNotOpenError()
        out = bytearray()
        timeout = Timeout(self._timeout)
        while len(out) < size:
            ready, _, _ = select.select([self._sock], [], [], timeout.time_left())
            if not ready:
                break
            try:
                chunk = self._sock.recv(size - len(out))
            except BlockingIOError:
                chunk = None
            except OSError as exc:
                raise SerialException(f"read failed: {exc}") from exc
            if chunk == b"":
                raise SerialException("device reports readiness to read but returned no data (line closed)")
            if chunk:
                out += chunk
            if timeout.expired():
                break
        return bytes(out)

    def write(self, data: bytes) -> int:
        if not self.is_open or self._sock is None:
            raise PortNotOpenError()
        try:
            self._sock.sendall(bytes(data))
        except OSError as exc:
            raise SerialException(f"write failed: {exc}") from exc
        return len(data)

    def fileno(self) -> int:
        if not self.is_open or self._sock is None:
            raise PortNotOpenError()
        return self._sock.fileno()

    def reset_input_buffer(self) -> None:
        if self._sock is None:
            return
        while True:
            ready, _, _ = select.select([self._sock], [], [], 0)
            if not ready or not self._sock.recv(65536):
                return

    def reset_output_buffer(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def send_break(self, duration: float = 0.25) -> None:
        self._state().breaks += 1
        time.sleep(min(duration, 0.01))

    def _update_break_state(self) -> None:
        if self._break_state and self.is_open:
            self._state().breaks += 1

    def _update_dtr_state(self) -> None:
        if self.is_open and self._link is not None and self._link.state is not None:
            self._link.state.set_dtr(bool(self._dtr_state))

    def _update_rts_state(self) -> None:
        if self.is_open and self._link is not None and self._link.state is not None:
            self._link.state.rts = bool(self._rts_state)

    @property
    def cd(self) -> bool:
        return self._state().dcd

    @property
    def dsr(self) -> bool:
        return self._state().dsr

    @property
    def cts(self) -> bool:
        return self._state().cts

    @property
    def ri(self) -> bool:
        return self._state().ri


def make_pair() -> tuple[FdLink, socket.socket, LineState]:
    """A connected (emulator link, DTE socket) pair with shared line state."""
    modem_side, dte_side = socket.socketpair()
    modem_side.setblocking(False)
    state = LineState()
    link = FdLink(modem_side.detach(), state=state)
    state._on_change = link.wake
    return link, dte_side, state


__all__ = ["FdLink", "LineState", "Serial", "install_handler", "make_pair", "register", "unregister", "SCHEME"]
