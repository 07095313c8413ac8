"""A local test account for real daemons (sshd, telnetd, login on a pty).

Created once with useradd/chpasswd (tests run as root in CI); skipped with a reason when we cannot.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass

import pytest

TEST_USER = "collector-test"
TEST_PASSWORD = "Tst-pw-7d1e9c"


@dataclass(frozen=True)
class TestAccount:
    name: str
    password: str
    home: str
    uid: int
    gid: int


def ensure_test_user(shell: str = "/bin/bash") -> TestAccount:
    """Create (or reuse) the test account with a known password; skip when not root."""
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        if os.geteuid() != 0 or not shutil.which("useradd"):
            pytest.skip("creating the test account needs root and useradd")
        subprocess.run(["useradd", "-m", "-s", shell, TEST_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(TEST_USER)
    if os.geteuid() == 0:
        subprocess.run(["chpasswd"], input=f"{TEST_USER}:{TEST_PASSWORD}\n", text=True, check=True, capture_output=True)
        if entry.pw_shell != shell:
            subprocess.run(["usermod", "-s", shell, TEST_USER], check=True, capture_output=True)
    return TestAccount(TEST_USER, TEST_PASSWORD, entry.pw_dir, entry.pw_uid, entry.pw_gid)
