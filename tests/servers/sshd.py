"""A real OpenSSH sshd on 127.0.0.1 for tests: own config, host key and log in a temp dir, always stopped.

Fixtures: `sshd` (TCP forwarding allowed), `sshd_noforward`, and `sshd_factory` (start more, e.g. a second hop).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
import pytest

from collector.transports.ssh_hostkeys import fingerprint

from .ports import free_port
from .users import TestAccount, ensure_test_user

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, so a killed pytest leaves no sshd behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _require_sshd() -> None:
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} is missing (install openssh-server)")
    if not os.path.exists(SSH_KEYGEN):
        pytest.skip("ssh-keygen is missing (install openssh-client)")
    if os.geteuid() != 0:
        pytest.skip("a test sshd that logs in a local account needs root")


def keygen(path: Path, kind: str = "ed25519") -> paramiko.PKey:
    """Generate an unencrypted key pair at path / path.pub; returns the public key."""
    for p in (path, Path(f"{path}.pub")):
        if p.exists():
            p.unlink()
    subprocess.run([SSH_KEYGEN, "-q", "-t", kind, "-N", "", "-C", "collector-test", "-f", str(path)], check=True)
    return public_key(Path(f"{path}.pub"))


def public_key(pub_path: Path) -> paramiko.PKey:
    kind, b64 = pub_path.read_text().split()[:2]
    return paramiko.PKey.from_type_string(kind, base64.b64decode(b64))


@dataclass
class SshdServer:
    port: int
    host_key_fingerprint: str
    known_hosts_line: str
    log_path: Path
    account: TestAccount
    host_key: paramiko.PKey
    host_key_path: Path
    client_key_path: Path  # private key listed in the server's authorized_keys
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    host: str = "127.0.0.1"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def count(self, pattern: str) -> int:
        """How many log lines match `pattern` (a regex), e.g. r"Failed password for collector-test"."""
        rx = re.compile(pattern)
        return sum(1 for line in self.log().splitlines() if rx.search(line))

    def wait_log(self, pattern: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count(pattern) == 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"sshd log never showed {pattern!r}:\n{self.log()[-2000:]}")
            time.sleep(0.01)

    def stop(self) -> None:
        proc = self.process
        if proc is None:
            return
        self.process = None
        # sshd -D runs in its own session (start_new_session), so its per-connection children share the
        # process group we created; end exactly that group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # leftover session children, if any
        if proc.stderr is not None:
            proc.stderr.close()

    def cleanup(self) -> None:
        """Stop and remove the server's directory (unless the host key is shared with another server)."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


_CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
PidFile {directory}/sshd.pid
AuthorizedKeysFile {directory}/authorized_keys
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
PermitRootLogin no
AllowUsers {user}
StrictModes no
Subsystem sftp internal-sftp
AllowTcpForwarding {forwarding}
LogLevel VERBOSE
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
MaxAuthTries 6
LoginGraceTime 30
{extra}
"""


def start_sshd(
    tmp_path: Path | None = None,
    allow_tcp_forwarding: bool = True,
    extra_config: str = "",
    *,
    port: int | None = None,
    host_key_path: Path | None = None,
) -> SshdServer:
    """Start sshd -D on 127.0.0.1 (a free port unless given); the caller must call .stop().

    `tmp_path` is unused for the daemon's files on purpose: pytest's tmp dirs are 0700 root, but sshd reads
    authorized_keys as the test user, so the server gets its own world-traversable temp dir.
    """
    _require_sshd()
    account = ensure_test_user()
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="collector-sshd-"))
    os.chmod(directory, 0o711)
    if host_key_path is None:
        host_key_path = directory / "ssh_host_ed25519_key"
        host_key = keygen(host_key_path)
    else:
        host_key = public_key(Path(f"{host_key_path}.pub"))
    client_key = directory / "client_ed25519"
    keygen(client_key)
    auth_keys = directory / "authorized_keys"
    auth_keys.write_text(Path(f"{client_key}.pub").read_text())
    os.chmod(auth_keys, 0o644)
    log_path = directory / "sshd.log"
    last_error = ""
    for _attempt in range(3):
        chosen = port or free_port()
        cfg = directory / "sshd_config"
        cfg.write_text(
            _CONFIG.format(
                port=chosen,
                host_key=host_key_path,
                directory=directory,
                user=account.name,
                forwarding="yes" if allow_tcp_forwarding else "no",
                extra=extra_config,
            )
        )
        log_path.write_text("")
        proc = subprocess.Popen(
            [SSHD, "-D", "-E", str(log_path), "-f", str(cfg)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        server = SshdServer(
            port=chosen,
            host_key_fingerprint=fingerprint(host_key),
            known_hosts_line=f"[127.0.0.1]:{chosen} {host_key.get_name()} {host_key.get_base64()}\n",
            log_path=log_path,
            account=account,
            host_key=host_key,
            host_key_path=host_key_path,
            client_key_path=client_key,
            directory=directory,
            process=proc,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if server.count(r"Server listening on 127\.0\.0\.1 port") > 0:
                return server
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr and proc.poll() is not None else ""
        last_error = (err + server.log())[-2000:]
        server.stop()
        if port is not None or "Address already in use" not in last_error:
            break
    raise RuntimeError(f"sshd did not start:\n{last_error}")


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdServer]:
    """A real sshd with AllowTcpForwarding yes (also a jump host)."""
    server = start_sshd(allow_tcp_forwarding=True)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def sshd_noforward() -> Iterator[SshdServer]:
    """A real sshd with AllowTcpForwarding no (a locked-down DMZ host)."""
    server = start_sshd(allow_tcp_forwarding=False)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def sshd_factory() -> Iterator[object]:
    """Call it like start_sshd(...); every server it started is stopped after the test."""
    started: list[SshdServer] = []

    def factory(*args: object, **kwargs: object) -> SshdServer:
        server = start_sshd(*args, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.cleanup()
