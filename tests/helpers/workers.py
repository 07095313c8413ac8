"""Helpers for the distributed fleet tests: real `collector worker` subprocesses, the submitter as a subprocess,
inventories with queues, and a scanner that looks for secrets in every byte Redis holds or was sent (MONITOR).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ctypes
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.helpers.fleet import ENV

HEARTBEAT = "0.5s"
VISIBILITY = "4s"


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no orphan workers


def wait_until(cond: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll a condition with a deadline (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"{what} not met within {timeout}s")


HOST = socket.gethostname()


@dataclass
class Worker:
    name: str  # as given to --name; the worker calls itself NAME@HOST (`node`)
    broker: str
    queues: str
    runs_dir: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def node(self) -> str:
        return f"{self.name}@{HOST}"

    def start(self, env: dict[str, str] | None = None) -> Worker:
        cmd = [sys.executable, "-m", "collector", "worker", "--broker", self.broker, "--queues", self.queues,
               "--runs-dir", str(self.runs_dir), "--name", self.name, "--heartbeat", HEARTBEAT,
               "--visibility-timeout", VISIBILITY, *self.extra]
        full = {**os.environ, **ENV, **(env or {})}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=fh,
                                         env=full, preexec_fn=_die_with_parent)
        r = redis.Redis.from_url(self.broker)
        try:
            wait_until(lambda: r.exists(f"collector:worker:{self.node}") or self.proc.poll() is not None,  # type: ignore[union-attr]
                       30, f"worker {self.name} heartbeat")
        finally:
            r.close()
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker {self.name} exited: {self.text()[-3000:]}")
        return self

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def workers(*items: Worker, env: dict[str, str] | None = None) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    try:
        for w in items:
            started.append(w.start(env))
        yield started
    finally:
        for w in started:
            w.stop()


def submit(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The submitter (`collector run … --via`) as a subprocess with its output captured."""
    full = {**os.environ, **ENV, **(env or {})}
    full.pop("COLUMNS", None)
    return subprocess.Popen([sys.executable, "-m", "collector", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full, preexec_fn=_die_with_parent)


def statuses(url: str, fid: str) -> dict[str, dict[str, Any]]:
    r: Any = redis.Redis.from_url(url)  # redis-py types every reply as a union
    try:
        return {k.decode(): json.loads(v) for k, v in r.hgetall(f"collector:fleet:{fid}:status").items()}
    finally:
        r.close()


def fleet_ids(url: str) -> list[str]:
    r: Any = redis.Redis.from_url(url)  # redis-py types every reply as a union
    try:
        return sorted({k.decode().split(":")[2] for k in r.scan_iter(match="collector:fleet:*:jobs")})
    finally:
        r.close()


# -- secrets in Redis ---------------------------------------------------------------------------------------------
_B64 = re.compile(rb"^[A-Za-z0-9+/=\r\n]{12,}$")


def exposures(blob: bytes, secrets: list[bytes], where: str, depth: int = 0) -> list[str]:
    """Where any secret shows in blob, also inside gzip/zlib data, JSON strings and base64 (Celery bodies)."""
    hits = [f"{where}: {s[:3]!r}…" for s in secrets if s in blob]
    if depth > 4:
        return hits
    inner: list[tuple[bytes, str]] = []
    if blob[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError, zlib.error):
            inner.append((gzip.decompress(blob), "gzip"))
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        doc = json.loads(blob)
        inner += [(s.encode("utf-8", "surrogatepass"), "json") for s in _strings(doc)]
    if _B64.match(blob.strip()):
        with contextlib.suppress(binascii.Error, ValueError):
            inner.append((base64.b64decode(blob.strip(), validate=False), "base64"))
    for data, how in inner:
        if data != blob:
            hits += exposures(data, secrets, f"{where}/{how}", depth + 1)
    return hits


def _strings(doc: Any) -> Iterator[str]:
    stack = [doc]
    while stack:
        cur = stack.pop()
        if isinstance(cur, str):
            yield cur
        elif isinstance(cur, dict):
            stack.extend(cur.keys())
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)


def dump_values(url: str) -> dict[str, list[bytes]]:
    """Every key (SCAN) with every value it holds, by its TYPE."""
    r: Any = redis.Redis.from_url(url)  # redis-py types every reply as a union
    out: dict[str, list[bytes]] = {}
    try:
        for key in r.scan_iter(count=500):
            kind = r.type(key).decode()
            vals: list[bytes] = []
            if kind == "string":
                vals = [r.get(key) or b""]
            elif kind == "list":
                vals = list(r.lrange(key, 0, -1))
                vals.append(b"".join(vals))  # chunked data is checked whole too
            elif kind == "hash":
                vals = [x for kv in r.hgetall(key).items() for x in kv]
            elif kind == "set":
                vals = list(r.smembers(key))
            elif kind == "zset":
                vals = [m for m, _ in r.zrange(key, 0, -1, withscores=True)]
            elif kind == "stream":
                vals = [x for _id, fields in r.xrange(key) for kv in fields.items() for x in kv]
            out[key.decode(errors="replace")] = vals
    finally:
        r.close()
    return out


_ARG = re.compile(rb'"((?:[^"\\]|\\.)*)"')
_ESC = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b", b'"': b'"', b"\\": b"\\"}


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\" and i + 1 < len(raw):
            n = raw[i + 1:i + 2]
            if n == b"x" and i + 3 < len(raw):
                out += bytes([int(raw[i + 2:i + 4], 16)])
                i += 4
                continue
            out += _ESC.get(n, n)
            i += 2
            continue
        out += c
        i += 1
    return bytes(out)


class Monitor:
    """Every command any client sends to the server while it runs (Redis MONITOR), arguments unescaped."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"MONITOR\r\n")
        self.commands: list[list[bytes]] = []
        self._buf = b""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except OSError:
                return
            if not data:
                return
            self._buf += data
            while b"\r\n" in self._buf:
                line, self._buf = self._buf.split(b"\r\n", 1)
                if line.startswith(b"+") and b"] " in line:
                    self.commands.append([_unescape(m) for m in _ARG.findall(line.split(b"] ", 1)[1])])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(5)

    def blobs(self) -> list[tuple[str, bytes]]:
        """Each argument, plus everything pushed to one list key joined (chunked transfers, checked whole)."""
        out: list[tuple[str, bytes]] = []
        pushed: dict[bytes, list[bytes]] = {}
        for cmd in self.commands:
            name = cmd[0].upper() if cmd else b""
            for arg in cmd[1:]:
                out.append((name.decode(errors="replace"), arg))
            if name in (b"RPUSH", b"LPUSH") and len(cmd) > 2:
                pushed.setdefault(cmd[1], []).extend(cmd[2:])
        out += [(f"pushed {k.decode(errors='replace')}", b"".join(v)) for k, v in pushed.items()]
        return out
