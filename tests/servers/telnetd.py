"""The real Debian telnet daemon (inetutils-telnetd) on 127.0.0.1, run inetd-style under socat.

socat accepts on a free port and, per connection, execs `telnetd -h` with the TCP socket as its stdin/stdout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .ports import free_port, wait_listening
from .users import TestAccount, ensure_test_user

TELNETD = "/usr/sbin/telnetd"


def telnetd_missing() -> str | None:
    """Why the fixture cannot run here, or None."""
    if not os.access(TELNETD, os.X_OK):
        return f"{TELNETD} (inetutils-telnetd) is not installed"
    if shutil.which("socat") is None:
        return "socat is not installed"
    if os.geteuid() != 0:
        return "telnetd needs root to allocate ptys and run login"
    return None


@dataclass
class TelnetdServer:
    """A running socat + telnetd on 127.0.0.1:port; log in as `account`."""

    port: int
    account: TestAccount
    host: str = "127.0.0.1"
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"telnet://{self.host}:{self.port}"

    @classmethod
    def start(cls, account: TestAccount, log_dir: Path) -> TelnetdServer:
        port = free_port()
        log_path = log_dir / "socat-telnetd.log"
        cmd = [
            "socat",
            f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
            # nofork: the per-connection socat child execs telnetd on the TCP socket itself (inetd style);
            # -h: no host banner before login
            f"EXEC:{TELNETD} -h,nofork",
        ]
        with log_path.open("wb") as logf:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
        server = cls(port=port, account=account, log_path=log_path, proc=proc)
        try:
            wait_listening(port, timeout=10.0)
        except TimeoutError:
            server.stop()
            raise
        return server

    def stop(self) -> None:
        """Kill socat and every telnetd/login it spawned (they share its process group)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=3.0)
                break
            except subprocess.TimeoutExpired:
                continue
        # sessions that were still open (telnetd, login, the shell) may outlive socat: end them too
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def telnetd(tmp_path: Path) -> Iterator[TelnetdServer]:
    """A real telnetd with a `login:` prompt for the test account; skipped when telnetd/socat are missing."""
    reason = telnetd_missing()
    if reason:
        pytest.skip(reason)
    account = ensure_test_user()
    server = TelnetdServer.start(account, tmp_path)
    try:
        yield server
    finally:
        server.stop()
