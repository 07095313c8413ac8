"""A real redis-server (Debian's) on 127.0.0.1 for tests: a free port, its own dir and config, AOF persistence.

Fixture `redis_server` yields a `RedisServer` (url, port, dir); `.restart()` stops it cleanly and starts it again on
the same port and data (the broker-restart tests), `.stop()` leaves it down. Skipped only when redis-server is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .ports import free_port, wait_listening

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"

_CONF = """\
bind 127.0.0.1
port {port}
protected-mode yes
dir {d}
pidfile {d}/redis.pid
logfile {d}/redis.log
daemonize no
appendonly yes
appendfsync always
save ""
databases 4
"""


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, so a killed pytest leaves no redis behind."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class RedisServer:
    port: int
    directory: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def log(self) -> str:
        try:
            return (self.directory / "redis.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> None:
        (self.directory / "redis.conf").write_text(_CONF.format(port=self.port, d=self.directory))
        self.proc = subprocess.Popen([REDIS, str(self.directory / "redis.conf")], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        try:
            wait_listening(self.port, timeout=15)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"redis-server did not start: {self.log()[-2000:]}") from None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # a clean shutdown: the AOF is flushed
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def restart(self, down_for: float = 0.0, wipe: bool = False) -> None:
        """Stop, stay down for `down_for` seconds (clients see the outage), start again with the same data (or
        none: `wipe`, a broker restarted without persistence)."""
        self.stop()
        if wipe:
            for path in self.directory.iterdir():
                if path.name.startswith(("appendonly", "dump")):
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        if down_for:
            time.sleep(down_for)  # the outage itself is what is being tested, not a wait for a condition
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_redis() -> RedisServer:
    if not os.path.exists(REDIS):
        pytest.skip("redis-server is not installed (apt install redis-server)")
    last: Exception | None = None
    for _attempt in range(3):
        server = RedisServer(free_port(), Path(tempfile.mkdtemp(prefix="collector-redis-")))
        try:
            server.start()
            return server
        except RuntimeError as exc:  # the free port was taken meanwhile: try another
            last = exc
            server.cleanup()
    raise RuntimeError(str(last))


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def redis_module() -> Iterator[RedisServer]:
    """One redis-server for a whole test module (tests use their own fleet ids, so they never collide)."""
    server = start_redis()
    try:
        yield server
    finally:
        server.cleanup()
