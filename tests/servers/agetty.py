"""A real serial console for tests: a socat pty pair with util-linux agetty (and /bin/login) on one end.

`agetty_console()` yields the other end's path; it shows a real `login:` prompt for the test account.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .users import TestAccount, ensure_test_user


@dataclass
class AgettyConsole:
    path: str  # the end the collector opens (serial://PATH)
    getty_tty: str  # the end agetty runs on (/dev/pts/N)
    account: TestAccount
    starts: int = 0  # how many agetty processes were started (one per login session)


def _need(*binaries: str) -> None:
    for b in binaries:
        if shutil.which(b) is None and not os.path.exists(f"/usr/sbin/{b}") and not os.path.exists(f"/sbin/{b}"):
            pytest.skip(f"{b} is not installed (apt-get install socat util-linux); the serial console test needs it")


def _binary(name: str) -> str:
    return shutil.which(name) or next(p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.exists(p))


def _wait_links(paths: list[str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(os.path.exists(p) for p in paths):
        if time.monotonic() > deadline:
            raise TimeoutError(f"socat did not create {paths}")
        time.sleep(0.02)


@contextlib.contextmanager
def socat_pty_pair() -> Iterator[tuple[str, str]]:
    """Two linked ptys; yields their symlink paths (in a temp dir), stops socat afterwards."""
    _need("socat")
    with tempfile.TemporaryDirectory(prefix="collector-tty-") as tmp:
        a, b = os.path.join(tmp, "ttyV0"), os.path.join(tmp, "ttyV1")
        proc = subprocess.Popen(
            [_binary("socat"), "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_links([a, b])
            yield a, b
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@contextlib.contextmanager
def agetty_console(baud: int = 9600) -> Iterator[AgettyConsole]:
    """A real agetty on one end of a socat pty pair, respawned after every logout (like init does)."""
    _need("socat", "agetty", "login")
    if os.geteuid() != 0:
        pytest.skip("agetty and login need root")
    account = ensure_test_user()
    with socat_pty_pair() as (getty_end, user_end):
        real = os.path.realpath(getty_end)  # /dev/pts/N: agetty wants a tty name relative to /dev
        rel = real.removeprefix("/dev/")
        console = AgettyConsole(path=user_end, getty_tty=real, account=account)
        stop = threading.Event()
        current: list[subprocess.Popen[bytes]] = []
        lock = threading.Lock()

        def supervise() -> None:
            while not stop.is_set():
                with lock:
                    if stop.is_set():
                        return
                    proc = subprocess.Popen(
                        [_binary("agetty"), "-L", "-8", "--noclear", "--nohostname", str(baud), rel, "vt100"],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,  # agetty makes the pty its controlling tty
                    )
                    current[:] = [proc]
                    console.starts += 1
                proc.wait()
                stop.wait(0.2)  # init's respawn pause, and never a tight loop if agetty fails at once

        thread = threading.Thread(target=supervise, name="agetty-supervisor", daemon=True)
        thread.start()
        try:
            yield console
        finally:
            stop.set()
            with lock:
                for proc in current:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, signal.SIGTERM)  # agetty, or the login/shell it became
                    try:
                        proc.wait(5)
                    except subprocess.TimeoutExpired:
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait(5)
            thread.join(5)
