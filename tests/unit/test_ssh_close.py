"""Closing an SSH link never hangs a stopping run: a polite close stuck inside paramiko (an interrupt left its
send path waiting) is cut at the socket after CLOSE_WAIT."""

from __future__ import annotations

import threading
import time

import pytest

from collector.transports import ssh_channel


class _Sock:
    def __init__(self) -> None:
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()


class _Transport:
    def __init__(self) -> None:
        self.active = True
        self.sock = _Sock()


def test_a_stuck_close_is_cut_at_the_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssh_channel, "CLOSE_WAIT", 0.2)
    t = _Transport()
    stuck = threading.Event()
    started = time.monotonic()
    ssh_channel.bounded_close(lambda: stuck.wait(30), t, "test")  # type: ignore[arg-type]
    assert time.monotonic() - started < 5
    assert t.sock.closed.is_set() and t.active is False
    stuck.set()


def test_a_prompt_close_leaves_the_socket_alone() -> None:
    t = _Transport()
    calls: list[str] = []
    ssh_channel.bounded_close(lambda: calls.append("closed"), t, "test")  # type: ignore[arg-type]
    assert calls == ["closed"] and not t.sock.closed.is_set() and t.active
