"""A local test account for real daemons (sshd, telnetd, login on a pty), made for this test session only.

Its name and password are random per session (per test worker), and it is removed when the session ends, so
`make test` leaves no account with a known password behind. Needs root (CI runs as root); skipped with a reason
otherwise.
"""

from __future__ import annotations

import atexit
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass

import pytest

TEST_USER = f"coltest{secrets.token_hex(3)}"
TEST_PASSWORD = f"Tst-{secrets.token_urlsafe(12)}"


@dataclass(frozen=True)
class TestAccount:
    name: str
    password: str
    home: str
    uid: int
    gid: int


def _remove() -> None:
    _shadow_tool(["userdel", "-r", "-f", TEST_USER], check=False)


def _shadow_tool(argv: list[str], *, check: bool = True, stdin: str | None = None) -> None:
    """useradd & co. lock /etc/passwd; another test worker may hold the lock for a moment: try again until the
    lock is free (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + 30
    while True:
        done = subprocess.run(argv, input=stdin, text=True, capture_output=True, check=False)
        busy = "lock" in (done.stderr or "").lower()
        if done.returncode == 0 or not busy or time.monotonic() > deadline:
            break
        time.sleep(0.1)  # the other worker's useradd holds the lock for milliseconds
    if check and done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr)


def ensure_test_user(shell: str = "/bin/bash") -> TestAccount:
    """Create (once per session) the test account with this session's random password; skip when not root."""
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        if os.geteuid() != 0 or not shutil.which("useradd"):
            pytest.skip("creating the test account needs root and useradd")
        _shadow_tool(["useradd", "-m", "-s", shell, TEST_USER])
        atexit.register(_remove)
        entry = pwd.getpwnam(TEST_USER)
        _shadow_tool(["chpasswd"], stdin=f"{TEST_USER}:{TEST_PASSWORD}\n")
    if entry.pw_shell != shell:
        _shadow_tool(["usermod", "-s", shell, TEST_USER])
    return TestAccount(TEST_USER, TEST_PASSWORD, entry.pw_dir, entry.pw_uid, entry.pw_gid)
