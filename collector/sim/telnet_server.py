"""The simulator's Telnet front end: a real Telnet server (honest NVT negotiation) feeding SimDevice.serve.

One thread per connection adapts the socket to a ByteChannel; the device runs its own in-band login dialog.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from typing import Any

from ..transports.telnet_nvt import (
    BINARY,
    DO,
    DONT,
    ECHO,
    NAWS,
    SB,
    SGA,
    TTYPE,
    TTYPE_IS,
    TTYPE_SEND,
    WILL,
    WONT,
    Command,
    NvtParser,
    command,
    encode_output,
    option_name,
    subnegotiation,
)
from .device import SimDevice
from .events import EventLog
from .profile import DeviceProfile

log = logging.getLogger(__name__)

#: options we (the server) agree to perform, and options we let the client perform
LOCAL_OK = frozenset({ECHO, SGA, BINARY})
REMOTE_OK = frozenset({TTYPE, NAWS, SGA, BINARY})
#: what a Cisco VTY asks for on connect
OPENING = ((WILL, ECHO), (WILL, SGA), (DO, TTYPE), (DO, NAWS))


class TelnetChannel:
    """One Telnet connection as a ByteChannel: negotiation answered in-line, data un-escaped and escaped.

    `info` holds what the client announced: terminal type, window size, options in effect.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._send_lock = threading.Lock()
        self._parser = NvtParser(strip_cr_nul=True)
        self._pending = bytearray()
        self.local: set[int] = set()  # options we perform (WILL, acknowledged)
        self.remote: set[int] = set()  # options the client performs
        self._asked_local: set[int] = set()  # we sent WILL and wait for DO/DONT
        self._asked_remote: set[int] = set()  # we sent DO and wait for WILL/WONT
        self.ttype: str | None = None
        self.naws: tuple[int, int] | None = None
        self.closed = False

    # -- ByteChannel -----------------------------------------------------------------------------
    def start(self) -> None:
        """Send the opening requests (WILL ECHO, WILL SGA, DO TTYPE, DO NAWS)."""
        out = b""
        for verb, opt in OPENING:
            (self._asked_local if verb == WILL else self._asked_remote).add(opt)
            out += command(verb, opt)
        self._raw_send(out)

    def recv(self, n: int) -> bytes:
        while not self._pending:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return b""
            if not chunk:
                return b""
            data, cmds = self._parser.feed(chunk)
            for c in cmds:
                self._handle(c)
            self._pending += data
        out = bytes(self._pending[:n])
        del self._pending[:n]
        return out

    def sendall(self, data: bytes) -> None:
        if not data:
            return
        self._raw_send(encode_output(data, binary=BINARY in self.local))

    def _raw_send(self, data: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(data)

    # -- negotiation (RFC 854/1143, without the queue bits) -------------------------------------------
    def _handle(self, c: Command) -> None:
        verb, opt = c.verb, c.opt
        if opt is None:
            return  # NOP, GA, AYT, BRK...: nothing to do for a simulated VTY
        if verb == SB:
            self._subneg(opt, c.payload)
        elif verb == DO:
            if opt in LOCAL_OK:
                if opt not in self.local:
                    self.local.add(opt)
                    if opt not in self._asked_local:
                        self._raw_send(command(WILL, opt))
                self._asked_local.discard(opt)
            else:
                self._raw_send(command(WONT, opt))
        elif verb == DONT:
            if opt in self.local and opt not in self._asked_local:
                self._raw_send(command(WONT, opt))
            self.local.discard(opt)
            self._asked_local.discard(opt)
        elif verb == WILL:
            if opt in REMOTE_OK:
                if opt not in self.remote:
                    self.remote.add(opt)
                    if opt not in self._asked_remote:
                        self._raw_send(command(DO, opt))
                    if opt == TTYPE:
                        self._raw_send(subnegotiation(TTYPE, bytes([TTYPE_SEND])))
                self._asked_remote.discard(opt)
            else:
                self._raw_send(command(DONT, opt))
        elif verb == WONT:
            if opt in self.remote and opt not in self._asked_remote:
                self._raw_send(command(DONT, opt))
            self.remote.discard(opt)
            self._asked_remote.discard(opt)
        # input CR NUL means CR only while the client does not send BINARY
        self._parser.strip_cr_nul = BINARY not in self.remote

    def _subneg(self, opt: int, payload: bytes) -> None:
        if opt == NAWS and len(payload) >= 4:
            self.naws = (payload[0] << 8 | payload[1], payload[2] << 8 | payload[3])
        elif opt == TTYPE and payload[:1] == bytes([TTYPE_IS]):
            self.ttype = payload[1:].decode("ascii", "replace")

    @property
    def info(self) -> dict[str, Any]:
        return {
            "ttype": self.ttype,
            "naws": self.naws,
            "local": sorted(option_name(o) for o in self.local),
            "remote": sorted(option_name(o) for o in self.remote),
        }

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class SimTelnetServer:
    """A simulated device reachable with Telnet on host:port (port 0 = a free port, see `.port`)."""

    def __init__(
        self,
        profile: DeviceProfile | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        events: EventLog | None = None,
    ) -> None:
        self.profile = profile or DeviceProfile()
        self.host = host
        self._want_port = port
        self.events = events if events is not None else EventLog()
        self.device = SimDevice(self.profile, self.events)
        self.sessions: list[dict[str, Any]] = []  # TelnetChannel.info of each connection, at its end
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._conns: dict[threading.Thread, TelnetChannel] = {}
        self.port = 0

    def start(self) -> SimTelnetServer:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.host, self._want_port))
        ls.listen(16)
        self._listener = ls
        self.port = int(ls.getsockname()[1])
        self._accept_thread = threading.Thread(target=self._accept_loop, name=f"sim-telnet-{self.port}", daemon=True)
        self._accept_thread.start()
        return self

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            chan = TelnetChannel(sock)
            t = threading.Thread(target=self._serve, args=(chan,), name="sim-telnet-conn", daemon=True)
            with self._lock:
                self._conns[t] = chan
            t.start()

    def _serve(self, chan: TelnetChannel) -> None:
        try:
            chan.start()
            self.device.serve(chan)
        except OSError:
            pass
        except Exception:  # pragma: no cover - a simulator bug must not kill the server
            log.exception("simulated Telnet session failed")
        finally:
            with self._lock:
                self.sessions.append(chan.info)
                self._conns.pop(threading.current_thread(), None)
            chan.close()

    def stop(self) -> None:
        ls, self._listener = self._listener, None
        if ls is not None:
            with contextlib.suppress(OSError):
                ls.shutdown(socket.SHUT_RDWR)
            ls.close()
        if self._accept_thread is not None:
            self._accept_thread.join(5.0)
            self._accept_thread = None
        with self._lock:
            conns = list(self._conns.items())
        for _, chan in conns:
            chan.close()
        for t, _ in conns:
            t.join(5.0)

    def __enter__(self) -> SimTelnetServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"telnet://{self.host}:{self.port}"


def run_telnet(
    profile: DeviceProfile | str = "cisco_ios",
    host: str = "127.0.0.1",
    port: int = 2323,
    events_path: str | None = None,
) -> None:
    """Serve a profile over Telnet until Ctrl-C or SIGTERM (used by `collector sim telnet`)."""
    prof = profile if isinstance(profile, DeviceProfile) else DeviceProfile.load(profile)
    events = EventLog(events_path) if events_path else EventLog()
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SimTelnetServer(prof, host=host, port=port, events=events) as srv:
        lg = prof.login
        print(f"listening on {srv.host}:{srv.port} ({srv.url})", flush=True)
        print(f"profile {prof.name} ({prof.platform}), hostname {prof.hostname}, login mode {lg.mode}", flush=True)
        if lg.mode != "none":
            print(f"user {lg.username}, password {lg.password}" + (f", OTP {lg.otp}" if lg.otp else ""), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.wait(0.5):
                pass
    events.close()
