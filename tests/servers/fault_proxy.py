"""A TCP fault proxy on 127.0.0.1: forwards to a target and injects faults on demand (thread-based, loopback only).

Faults: cut after N bytes (up = client->target, down = target->client, both) or N seconds, stall without closing,
reset now, refuse the next K connections. Counters report bytes each way, connections and faults fired.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

UP = "up"
DOWN = "down"
BOTH = "both"
_BUF = 256 * 1024  # per direction: stop reading when this much waits to be sent (back-pressure)


@dataclass
class _Trigger:
    remaining: int
    direction: str
    action: str  # "cut" (close both sides), "reset" (RST both sides), "stall" (stop forwarding, keep open)


class _Conn:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.stalled = False
        self.closed = False
        self.kill: str | None = None  # "cut" | "reset", set by other threads: act now
        self.kill_when_flushed: str | None = None  # a byte trigger fired: deliver the allowed bytes, then act
        self.buf = {UP: bytearray(), DOWN: bytearray()}  # received, to be sent on
        self.held = {UP: bytearray(), DOWN: bytearray()}  # received after a stall trigger, sent on unstall
        self.eof = {UP: False, DOWN: False}  # the sending side of that direction closed
        self.shut = {UP: False, DOWN: False}  # we passed that EOF on


def _rst_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _fin_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """`FaultProxy(target_host, target_port)`; `.start()` then connect to 127.0.0.1:`.port`; `.stop()` always.

    Byte triggers are one-shot and count from the moment they are armed, across connections, so
    "cut at byte N of the upload" works even when the client opens several connections. A cut forwards exactly
    the bytes up to the trigger point, then acts on the connection that carried them.
    """

    def __init__(self, target_host: str, target_port: int, *, poll: float = 0.05) -> None:
        if target_host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy only forwards to loopback")
        self.target = (target_host, target_port)
        self._poll = poll
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._conns: list[_Conn] = []
        self._running = False
        self._trigger: _Trigger | None = None
        self._series: list[int] = []
        self._refuse = 0
        self._stall_new = False
        self._timer: threading.Timer | None = None
        self.port = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0  # accepted (refused ones included)
        self.refused = 0
        self.faults = 0  # cuts, resets and stalls that fired

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(64)
        ls.settimeout(self._poll)
        self._listener = ls
        self.port = int(ls.getsockname()[1])
        self._running = True
        self._accept_thread = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for c in self._conns:
                c.kill = c.kill or "cut"
            threads = list(self._threads)
        for t in threads:
            t.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ----------------------------------------------------------------------------------------------
    def cut_after_bytes(self, n: int, direction: str = UP, action: str = "cut") -> None:
        """Arm a one-shot fault after n more bytes in `direction` (up, down or both)."""
        if direction not in (UP, DOWN, BOTH) or action not in ("cut", "reset", "stall"):
            raise ValueError("direction is up/down/both, action is cut/reset/stall")
        with self._lock:
            self._trigger = _Trigger(max(0, n), direction, action)
            self._series = []

    def cut_series(self, gaps: list[int], direction: str = UP, action: str = "cut") -> None:
        """Several one-shot faults in a row: the first after gaps[0] bytes, the next gaps[1] bytes after it..."""
        self.cut_after_bytes(gaps[0], direction, action)
        with self._lock:
            self._series = list(gaps[1:])

    def disarm(self) -> None:
        """Cancel pending byte triggers and a pending timed cut."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with self._lock:
            self._trigger = None
            self._series = []

    @property
    def armed(self) -> bool:
        with self._lock:
            return self._trigger is not None

    def cut_after_seconds(self, s: float, action: str = "cut") -> None:
        """One-shot: s seconds from now, every open connection is cut (or reset, or stalled)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(s, self._fire_all, args=(action,))
        self._timer.daemon = True
        self._timer.start()

    def stall(self, include_new: bool = False) -> None:
        """Stop forwarding on every open connection (and new ones if asked), without closing anything."""
        with self._lock:
            for c in self._conns:
                c.stalled = True
            self._stall_new = include_new
            self.faults += 1

    def unstall(self) -> None:
        with self._lock:
            for c in self._conns:
                c.stalled = False
            self._stall_new = False

    def reset_now(self) -> None:
        """Send RST to both ends of every open connection."""
        self._fire_all("reset")

    def cut_now(self) -> None:
        self._fire_all("cut")

    def refuse_next(self, k: int) -> None:
        """The next k connections are accepted and reset at once (the client sees a reset before any byte)."""
        with self._lock:
            self._refuse = k

    @property
    def active(self) -> int:
        with self._lock:
            return sum(1 for c in self._conns if not c.closed)

    def wait_for(self, cond: Callable[[FaultProxy], bool], timeout: float = 10.0) -> bool:
        """Poll a condition on the proxy with a deadline (no fixed sleeps in tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond(self):
                return True
            time.sleep(0.01)
        return cond(self)

    def _fire_all(self, action: str) -> None:
        with self._lock:
            conns = [c for c in self._conns if not c.closed]
            if conns:
                self.faults += 1
            for c in conns:
                if action == "stall":
                    c.stalled = True
                else:
                    c.kill = action

    # -- plumbing --------------------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while self._running:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                refuse = self._refuse > 0
                if refuse:
                    self._refuse -= 1
                    self.refused += 1
            if refuse:
                _rst_close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _rst_close(client)
                continue
            conn = _Conn(client, upstream)
            with self._lock:
                conn.stalled = self._stall_new
                self._conns.append(conn)
                t = threading.Thread(target=self._pump, args=(conn,), name="fault-proxy-pump", daemon=True)
                self._threads = [x for x in self._threads if x.is_alive()]
                self._threads.append(t)
            t.start()

    def _allowance(self, direction: str, n: int) -> tuple[int, _Trigger | None]:
        """How many of n bytes may pass before the armed trigger fires (called under the lock)."""
        trig = self._trigger
        if trig is None or (trig.direction != BOTH and trig.direction != direction):
            return n, None
        if n < trig.remaining:
            trig.remaining -= n
            return n, None
        allowed = trig.remaining
        self._trigger = _Trigger(self._series.pop(0), trig.direction, trig.action) if self._series else None
        self.faults += 1
        return allowed, trig

    def _pump(self, conn: _Conn) -> None:
        """Non-blocking, buffered forwarding with back-pressure; half-closes are passed on."""
        src_of = {UP: conn.client, DOWN: conn.upstream}
        dst_of = {UP: conn.upstream, DOWN: conn.client}
        sel = selectors.DefaultSelector()
        conn.client.setblocking(False)
        conn.upstream.setblocking(False)
        flush_deadline: float | None = None
        try:
            while self._running and not conn.kill:
                if not conn.stalled and any(conn.held.values()):
                    for d in (UP, DOWN):
                        conn.buf[d] += conn.held[d]
                        conn.held[d].clear()
                if conn.kill_when_flushed:
                    flush_deadline = flush_deadline or time.monotonic() + 2.0
                    if not any(conn.buf.values()) or time.monotonic() > flush_deadline:
                        conn.kill = conn.kill_when_flushed
                        break
                interest: dict[socket.socket, int] = {conn.client: 0, conn.upstream: 0}
                for d in (UP, DOWN):
                    if not conn.stalled and not conn.kill_when_flushed and not conn.eof[d] and len(conn.buf[d]) < _BUF:
                        interest[src_of[d]] |= selectors.EVENT_READ
                    if conn.buf[d]:
                        interest[dst_of[d]] |= selectors.EVENT_WRITE
                for want_sock, ev in interest.items():
                    self._interest(sel, want_sock, ev)
                if not any(interest.values()):
                    if all(conn.shut.values()):
                        break
                    time.sleep(self._poll)
                    self._pass_eofs(conn, dst_of)
                    continue
                for key, ev in sel.select(self._poll):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if ev & selectors.EVENT_READ:
                        d = UP if sock is conn.client else DOWN
                        try:
                            data = sock.recv(_BUF)
                        except BlockingIOError:
                            data = None
                        except OSError:
                            conn.kill = "cut"
                            break
                        if data == b"":
                            conn.eof[d] = True
                        elif data:
                            with self._lock:
                                allowed, fired = self._allowance(d, len(data))
                            conn.buf[d] += data[:allowed]
                            if fired is not None:
                                if fired.action == "stall":
                                    conn.stalled = True
                                    conn.held[d] += data[allowed:]
                                else:
                                    conn.kill_when_flushed = fired.action
                    if ev & selectors.EVENT_WRITE:
                        d = UP if sock is conn.upstream else DOWN
                        try:
                            n = sock.send(conn.buf[d])
                        except BlockingIOError:
                            n = 0
                        except OSError:
                            conn.kill = "cut"
                            break
                        del conn.buf[d][:n]
                        with self._lock:
                            if d == UP:
                                self.bytes_up += n
                            else:
                                self.bytes_down += n
                self._pass_eofs(conn, dst_of)
                if all(conn.shut.values()):
                    break
        finally:
            sel.close()
            if conn.kill == "reset":
                _rst_close(conn.client)
                _rst_close(conn.upstream)
            else:
                _fin_close(conn.client)
                _fin_close(conn.upstream)
            with self._lock:
                conn.closed = True
                self._conns = [c for c in self._conns if not c.closed]

    @staticmethod
    def _interest(sel: selectors.BaseSelector, sock: socket.socket, ev: int) -> None:
        registered = sock in {k.fileobj for k in sel.get_map().values()}
        if ev and registered:
            sel.modify(sock, ev)
        elif ev:
            sel.register(sock, ev)
        elif registered:
            sel.unregister(sock)

    @staticmethod
    def _pass_eofs(conn: _Conn, dst_of: dict[str, socket.socket]) -> None:
        for d in (UP, DOWN):
            if conn.eof[d] and not conn.buf[d] and not conn.held[d] and not conn.shut[d]:
                conn.shut[d] = True
                with contextlib.suppress(OSError):
                    dst_of[d].shutdown(socket.SHUT_WR)
