"""Plumbing for the Telnet transport: a private asyncio loop thread and a bridge that carries an SSH jump
channel through a socketpair (asyncio needs a real socket; no listening port is opened).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .base import READ_SIZE

T = TypeVar("T")


class Stopped(Exception):
    """The loop thread was stopped (the transport was closed) while a call waited on it."""


class LoopThread:
    """A private asyncio loop in a daemon thread; coroutines are submitted from the caller's thread.

    `stop()` releases every caller still waiting (e.g. a reader blocked in read(None) when another thread
    closes the transport) with Stopped.
    """

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.stopped = False
        self._lock = threading.Lock()
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        with self._lock:
            if self.stopped:
                coro.close()
                raise Stopped()
            fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
            self._pending.add(fut)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise
        except concurrent.futures.CancelledError as exc:
            raise Stopped() from exc
        finally:
            with self._lock:
                self._pending.discard(fut)

    def stop(self) -> None:
        with self._lock:
            if self.stopped:
                return
            self.stopped = True
            pending = list(self._pending)
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5.0)
        for fut in pending:
            fut.cancel()
        if not self._thread.is_alive():
            self.loop.close()


class ChannelBridge:
    """Carries a socket-like channel (a paramiko direct-tcpip Channel) through a socketpair for asyncio.

    Two pump threads copy bytes each way; an end of stream on one side shuts the other side down.
    No listening port is opened.
    """

    def __init__(self, chan: Any) -> None:
        self.chan = chan
        self.outer, self.inner = socket.socketpair()
        self._threads = [
            threading.Thread(target=self._pump_in, name="telnet-jump-in", daemon=True),
            threading.Thread(target=self._pump_out, name="telnet-jump-out", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump_in(self) -> None:  # channel -> asyncio side
        try:
            while True:
                data = self.chan.recv(READ_SIZE)
                if not data:
                    break
                self.outer.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                self.outer.shutdown(socket.SHUT_WR)

    def _pump_out(self) -> None:  # asyncio side -> channel
        try:
            while True:
                data = self.outer.recv(READ_SIZE)
                if not data:
                    break
                self.chan.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(Exception):
                self.chan.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.chan.close()
        for s in (self.outer, self.inner):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        for t in self._threads:
            t.join(2.0)
        for s in (self.outer, self.inner):
            s.close()
