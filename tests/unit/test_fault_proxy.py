"""The fault proxy itself: exact byte cuts each way, stalls, resets, refusals and its counters.

A small threaded echo/sink server on 127.0.0.1 stands behind it; every check waits on a condition.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.servers.fault_proxy import FaultProxy


class Backend:
    """Echo server that also counts and hashes what it received per connection."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.received: list[int] = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while self.running:
            try:
                c, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket) -> None:
        with self.lock:
            idx = len(self.received)
            self.received.append(0)
        c.settimeout(5)
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                with self.lock:
                    self.received[idx] += len(data)
                c.sendall(data)
        except OSError:
            pass
        finally:
            c.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def backend() -> Iterator[Backend]:
    b = Backend()
    yield b
    b.close()


@pytest.fixture
def proxy(backend: Backend) -> Iterator[FaultProxy]:
    p = FaultProxy("127.0.0.1", backend.port).start()
    yield p
    p.stop()


def _connect(proxy: FaultProxy) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    return s


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        data = s.recv(n - len(buf))
        if not data:
            break
        buf += data
    return bytes(buf)


def _recv_until_closed(s: socket.socket) -> tuple[bytes, bool]:
    """Read until EOF or reset; returns the bytes and whether it ended (vs. timed out)."""
    buf = bytearray()
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return bytes(buf), True
            buf += data
    except ConnectionResetError:
        return bytes(buf), True
    except TimeoutError:
        return bytes(buf), False


def test_forwards_both_ways_and_counts(proxy: FaultProxy) -> None:
    payload = os.urandom(300_000)
    with _connect(proxy) as s:
        t = threading.Thread(target=s.sendall, args=(payload,))
        t.start()
        echoed = _recv_exact(s, len(payload))
        t.join()
    assert hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()
    assert proxy.wait_for(lambda p: p.bytes_up == len(payload) and p.bytes_down == len(payload))
    assert proxy.connections == 1 and proxy.faults == 0


def test_half_close_is_passed_on(proxy: FaultProxy) -> None:
    payload = os.urandom(1_000_000)
    with _connect(proxy) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)  # the echo server sees EOF, echoes the rest, then closes
        got, ended = _recv_until_closed(s)
    assert ended and got == payload


def test_cut_up_after_exact_bytes(proxy: FaultProxy, backend: Backend) -> None:
    proxy.cut_after_bytes(12_345, direction="up")
    with _connect(proxy) as s:
        with contextlib.suppress(OSError):
            s.sendall(os.urandom(100_000))
        _, ended = _recv_until_closed(s)
    assert ended
    assert proxy.wait_for(lambda p: p.active == 0)
    assert proxy.wait_for(lambda p: backend.received == [12_345])
    assert proxy.bytes_up == 12_345 and proxy.faults == 1 and not proxy.armed


def test_cut_down_counts_only_server_to_client(proxy: FaultProxy) -> None:
    proxy.cut_after_bytes(1000, direction="down")
    with _connect(proxy) as s:
        s.sendall(b"x" * 4000)
        got, ended = _recv_until_closed(s)
    assert ended and len(got) == 1000
    assert proxy.bytes_down == 1000


def test_trigger_counts_across_connections_and_is_one_shot(proxy: FaultProxy, backend: Backend) -> None:
    proxy.cut_after_bytes(1500, direction="both")
    with _connect(proxy) as a:
        a.sendall(b"a" * 500)
        assert _recv_exact(a, 500) == b"a" * 500  # 500 up + 500 down = 1000 counted
    with _connect(proxy) as b:
        b.sendall(b"b" * 2000)
        got, ended = _recv_until_closed(b)
    assert ended and len(got) == 0  # the last 500 of the budget went up, then the cut
    assert proxy.wait_for(lambda p: p.active == 0)
    assert proxy.wait_for(lambda p: len(backend.received) == 2 and backend.received[1] == 500)
    with _connect(proxy) as c:  # disarmed after firing
        c.sendall(b"c" * 3000)
        assert _recv_exact(c, 3000) == b"c" * 3000
    assert proxy.faults == 1 and proxy.connections == 3


def test_cut_series_fires_in_turn(proxy: FaultProxy, backend: Backend) -> None:
    proxy.cut_series([1000, 2000, 3000], direction="up")
    for _ in range(3):
        with _connect(proxy) as s:
            with contextlib.suppress(OSError):
                s.sendall(b"z" * 10_000)
            _recv_until_closed(s)
    assert proxy.wait_for(lambda p: backend.received == [1000, 2000, 3000])
    assert proxy.faults == 3 and not proxy.armed


def test_stall_keeps_open_then_unstall_delivers(proxy: FaultProxy) -> None:
    with _connect(proxy) as s:
        s.sendall(b"ping")
        assert _recv_exact(s, 4) == b"ping"
        proxy.stall()
        s.settimeout(0.3)
        s.sendall(b"pong")
        _, ended = _recv_until_closed(s)
        assert not ended  # silent, not closed
        assert proxy.active == 1
        proxy.unstall()
        s.settimeout(5)
        assert _recv_exact(s, 4) == b"pong"


def test_stall_action_holds_remaining_bytes(proxy: FaultProxy) -> None:
    proxy.cut_after_bytes(3, direction="down", action="stall")
    with _connect(proxy) as s:
        s.sendall(b"abcdef")
        assert _recv_exact(s, 3) == b"abc"
        s.settimeout(0.3)
        assert not _recv_until_closed(s)[1]
        proxy.unstall()
        s.settimeout(5)
        assert _recv_exact(s, 3) == b"def"


def test_reset_now_resets_client(proxy: FaultProxy) -> None:
    with _connect(proxy) as s:
        s.sendall(b"hello")
        assert _recv_exact(s, 5) == b"hello"
        proxy.reset_now()
        with pytest.raises(ConnectionResetError):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if not s.recv(10):
                    break
    assert proxy.faults == 1


def test_refuse_next_k(proxy: FaultProxy) -> None:
    proxy.refuse_next(2)
    for _ in range(2):
        try:
            with _connect(proxy) as s:
                _, ended = _recv_until_closed(s)
                assert ended
        except ConnectionResetError:
            pass  # the reset can win the race against connect() returning
    with _connect(proxy) as s:
        s.sendall(b"ok")
        assert _recv_exact(s, 2) == b"ok"
    assert proxy.connections == 3 and proxy.refused == 2


def test_cut_after_seconds(proxy: FaultProxy) -> None:
    with _connect(proxy) as s:
        s.sendall(b"hi")
        assert _recv_exact(s, 2) == b"hi"
        proxy.cut_after_seconds(0.2)
        s.settimeout(5)
        _, ended = _recv_until_closed(s)
    assert ended and proxy.faults == 1


def test_loopback_only() -> None:
    with pytest.raises(ValueError):
        FaultProxy("192.0.2.1", 80)
