"""Telnet transport: telnetlib3 (bytes mode) on a private asyncio loop thread, over TCP or an SSH jump channel.

Reads are readiness-driven (no sleeps); CR NUL becomes CR, IAC IAC becomes 0xFF; CR LF is left to the session.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any, TypeVar

from telnetlib3 import TelnetClient
from telnetlib3.stream_reader import TelnetReader

from ..errors import ConnectError, ConnectionLost
from ..target import Target
from .base import READ_SIZE, ConnectOptions, Transport
from .telnet_loop import ChannelBridge, LoopThread, Stopped
from .telnet_nvt import BINARY, CrNulFilter, option_name

log = logging.getLogger(__name__)

T = TypeVar("T")

#: telnetlib3 reader buffer: it pauses the socket above twice this, so memory stays bounded.
READER_LIMIT = 1 << 20
DEFAULT_COLS = 200
DEFAULT_ROWS = 50
#: how long a write may wait for the peer to accept our bytes before the link counts as dead
WRITE_TIMEOUT = 60.0
_LOST = object()


def naws_size(options: ConnectOptions) -> tuple[int, int]:
    """(cols, rows) to announce with NAWS: the option values when a device accepts them, else 200x50.

    The session default width 511 / height 0 ("no paging") is not a window size some Telnet servers
    accept, so those fall back to 200 columns and 50 rows; the session turns paging off itself.
    """
    cols = options.width if 0 < options.width <= 255 else DEFAULT_COLS
    rows = options.height if 0 < options.height <= 255 else DEFAULT_ROWS
    return cols, rows


class _Reader(TelnetReader):
    """telnetlib3's byte reader, removing the NUL of CR NUL as data arrives (unless the server sends BINARY).

    Done at arrival, on the loop thread, so a BINARY change mid-stream applies to exactly the bytes after it.
    """

    def __init__(self, limit: int = READER_LIMIT) -> None:
        super().__init__(limit=limit)
        self.crnul = CrNulFilter()
        self.binary: Callable[[], bool] = lambda: False

    def feed_data(self, data: bytes) -> None:
        if self.crnul.after_cr or b"\r" in data:  # cheap test first: this runs for every data segment
            if self.binary():
                self.crnul.after_cr = False
            else:
                data = self.crnul.feed(data)
        super().feed_data(data)


class _Client(TelnetClient):
    """telnetlib3's automation client (never TelnetTerminalClient) tuned for scraping a device."""

    _reader_factory = _Reader

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        writer, reader = self.writer, self.reader
        assert writer is not None and isinstance(reader, _Reader)
        # SLC snooping is for a server's line editing; as a client it would walk every byte in Python.
        writer.slc_simulated = False
        binary_opt = bytes([BINARY])
        reader.binary = lambda: bool(writer.remote_option.enabled(binary_opt))

    #: why the stream ended, when it was not a clean end of stream (e.g. a reset)
    lost_reason: str | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        # telnetlib3 drops chunks still queued for processing when the stream ends, and a reset makes
        # its reader raise before the bytes already received; deliver every received byte first, then
        # report the end (with the reset's reason) as the end of stream.
        if exc is not None and self.lost_reason is None:
            self.lost_reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if not getattr(self, "_closing", True) and self.reader is not None:
            queue = getattr(self, "_rx_queue", None)
            while queue:
                chunk = queue.popleft()
                self._rx_bytes -= len(chunk)
                try:
                    self._process_chunk(chunk)
                except Exception:  # pragma: no cover - a broken chunk must not hide the end of stream
                    log.debug("telnet: error processing the final chunk", exc_info=True)
        super().connection_lost(None)


class TelnetTransport(Transport):
    """telnet://[user@]host[:port], optionally through SSH jump hosts (options.jumps, direct-tcpip)."""

    def __init__(self, target: Target, options: ConnectOptions) -> None:
        super().__init__(target, options)
        self.info = {"transport": "telnet", "peer": target.address}
        self._lt: LoopThread | None = None
        self._proto: _Client | None = None
        self._bridge: ChannelBridge | None = None
        self._jump_transports: list[Any] = []
        self._closed = False
        self._lost = False

    # -- opening -------------------------------------------------------------------------------

    def open(self) -> None:
        host, port = self.target.host, self.target.port or 23
        sock = self._open_via_jumps(host, port) if self.options.jumps else self._open_tcp(host, port)
        self.open_on(sock)

    def _open_tcp(self, host: str, port: int) -> socket.socket:
        where = f"telnet {host}:{port}"
        try:
            sock = socket.create_connection((host, port), timeout=self.options.connect_timeout)
        except socket.gaierror as exc:
            raise ConnectError(f"{where}: cannot resolve host ({exc.strerror or exc})") from exc
        except ConnectionRefusedError as exc:
            raise ConnectError(f"{where}: connection refused") from exc
        except TimeoutError as exc:
            raise ConnectError(f"{where}: no answer within {self.options.connect_timeout:g} s") from exc
        except OSError as exc:
            raise ConnectError(f"{where}: {exc.strerror or exc}") from exc
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock

    def _open_via_jumps(self, host: str, port: int) -> socket.socket:
        from . import ssh_jump  # type: ignore[attr-defined,unused-ignore]  # the SSH engineer's module

        chan, transports = ssh_jump.open_jump_channel(self.options.jumps, host, port, self.options)
        self._jump_transports = list(transports)
        self._bridge = ChannelBridge(chan)
        self.info["jumps"] = [hop.display() for hop in self.options.jumps]
        return self._bridge.inner

    def open_on(self, sock: socket.socket) -> None:
        """Run the Telnet client over an already connected stream socket (TCP, a socketpair, a bridge)."""
        cols, rows = naws_size(self.options)
        term = self.options.term or "vt100"
        self.info.update({"term": term, "naws": [cols, rows]})

        def factory() -> _Client:
            return _Client(
                encoding=False,
                term=term,
                cols=cols,
                rows=rows,
                connect_minwait=0,
                connect_maxwait=self.options.connect_timeout,
                compression=False,
                limit=READER_LIMIT,
                send_environ=("TERM",),
            )

        async def attach() -> _Client:
            _, proto = await asyncio.get_running_loop().create_connection(factory, sock=sock)
            return proto

        self._lt = LoopThread(f"telnet-{self.target.address}")
        try:
            self._proto = self._lt.run(attach(), timeout=self.options.connect_timeout)
        except (OSError, concurrent.futures.TimeoutError) as exc:
            self._teardown()
            sock.close()
            raise ConnectError(f"telnet {self.target.address}: cannot start the Telnet session ({exc})") from exc
        self._closed = False

    # -- reading and writing ---------------------------------------------------------------------

    async def _aread(self, timeout: float | None) -> Any:
        proto = self._proto
        assert proto is not None and proto.reader is not None
        reader = proto.reader
        try:
            if timeout is None:
                data = await reader.read(READ_SIZE)
            else:
                # wait_for returns a result that raced with its timeout; a cancelled read consumes nothing
                data = await asyncio.wait_for(reader.read(READ_SIZE), max(timeout, 0.0005))
        except TimeoutError:
            return b""
        except (OSError, EOFError) as exc:
            return (_LOST, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        if not data:
            return (_LOST, proto.lost_reason or "end of stream")
        return data

    def read(self, timeout: float | None) -> bytes:
        lt = self._check_open()
        try:
            result = lt.run(self._aread(timeout), None if timeout is None else timeout + 30.0)
        except concurrent.futures.TimeoutError as exc:  # the loop thread is stuck: treat the link as dead
            self._lost = True
            raise ConnectionLost(f"telnet {self.target.address}: the Telnet reader stopped responding") from exc
        except Stopped as exc:
            raise ConnectionLost(f"telnet {self.target.address}: the connection was closed") from exc
        if isinstance(result, tuple):
            self._lost = True
            self._refresh_info()
            raise ConnectionLost(f"telnet {self.target.address}: connection closed by the peer ({result[1]})")
        return bytes(result)

    async def _awrite(self, data: bytes) -> str | None:
        proto = self._proto
        writer = proto.writer if proto is not None else None
        if writer is None or writer.is_closing():
            return "connection closed"
        writer.write(data)
        try:
            await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
        except TimeoutError:
            return f"the peer accepted no data for {WRITE_TIMEOUT:g} s"
        except (OSError, EOFError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def write(self, data: bytes) -> None:
        lt = self._check_open()
        if not data:
            return
        try:
            problem = lt.run(self._awrite(bytes(data)), WRITE_TIMEOUT + 30.0)
        except concurrent.futures.TimeoutError:
            problem = "the Telnet writer stopped responding"
        except Stopped:
            problem = "the connection was closed"
        if problem is not None:
            self._lost = True
            raise ConnectionLost(f"telnet {self.target.address}: cannot send ({problem})")

    # -- state ---------------------------------------------------------------------------------

    def _check_open(self) -> LoopThread:
        lt = self._lt
        if self._closed or self._proto is None or lt is None:
            raise ConnectionLost(f"telnet {self.target.address}: the connection is closed")
        return lt

    @property
    def return_key(self) -> bytes:
        """What a Telnet client sends for Return now: CR while we send BINARY (as netkit/BSD telnet do),
        else the NVT's CR LF. (inetutils telnetd turns on our BINARY, and then reads CR LF as two Returns.)
        """
        writer = self._proto.writer if self._proto is not None else None
        if writer is not None and writer.local_option.enabled(bytes([BINARY])):
            return b"\r"
        return b"\r\n"

    def negotiated(self) -> dict[str, list[str]]:
        """Options in effect: "local" (we WILL) and "remote" (the server WILL)."""
        writer = self._proto.writer if self._proto is not None else None
        if writer is None:
            return {"local": [], "remote": []}

        def names(opts: Any) -> list[str]:
            return sorted(option_name(k[0]) for k in list(opts) if len(k) == 1 and opts.enabled(k))

        # telnetlib3 answers DO ECHO with WONT ECHO (a client never echoes) yet marks it enabled: leave it out.
        local = [n for n in names(writer.local_option) if n != "ECHO"]
        return {"local": local, "remote": names(writer.remote_option)}

    def _refresh_info(self) -> None:
        with contextlib.suppress(Exception):
            self.info["options"] = self.negotiated()
            writer = self._proto.writer if self._proto is not None else None
            if writer is not None:
                self.info["mode"] = writer.mode

    def alive(self) -> bool:
        if self._closed or self._lost or self._proto is None:
            return False
        writer, reader = self._proto.writer, self._proto.reader
        return bool(writer is not None and not writer.is_closing() and reader is not None and not reader._eof)

    def close(self) -> None:
        if self._closed:
            return
        self._refresh_info()
        self._closed = True
        self._teardown()

    def _teardown(self) -> None:
        lt, proto = self._lt, self._proto
        if lt is not None and proto is not None and proto.writer is not None:

            async def shut() -> None:
                assert proto.writer is not None
                proto.writer.close()

            with contextlib.suppress(Exception):
                lt.run(shut(), timeout=5.0)
        if lt is not None:
            lt.stop()
        if self._bridge is not None:
            self._bridge.close()
            self._bridge = None
        for t in reversed(self._jump_transports):
            with contextlib.suppress(Exception):
                t.close()
        self._jump_transports = []
        self._lt = None
