"""A local test account for real daemons (sshd, telnetd, login on a pty), made for this test session only.

Its name and password are random per session, and it is removed when the session ends, so `make test` leaves
no account with a known password behind. Needs root (CI runs as root); skipped with a reason otherwise.
"""

from __future__ import annotations

import atexit
import os
import pwd
import secrets
import shutil
import subprocess
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
    subprocess.run(["userdel", "-r", "-f", TEST_USER], capture_output=True, check=False)


def ensure_test_user(shell: str = "/bin/bash") -> TestAccount:
    """Create (once per session) the test account with this session's random password; skip when not root."""
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        if os.geteuid() != 0 or not shutil.which("useradd"):
            pytest.skip("creating the test account needs root and useradd")
        subprocess.run(["useradd", "-m", "-s", shell, TEST_USER], check=True, capture_output=True)
        atexit.register(_remove)
        entry = pwd.getpwnam(TEST_USER)
        subprocess.run(["chpasswd"], input=f"{TEST_USER}:{TEST_PASSWORD}\n", text=True, check=True,
                       capture_output=True)
    if entry.pw_shell != shell:
        subprocess.run(["usermod", "-s", shell, TEST_USER], check=True, capture_output=True)
    return TestAccount(TEST_USER, TEST_PASSWORD, entry.pw_dir, entry.pw_uid, entry.pw_gid)
