"""A real OpenSSH sshd on 127.0.0.1 for tests: own config, host key and log in a temp dir, always stopped.

Fixtures: `sshd` (TCP forwarding allowed), `sshd_noforward`, `sshd_factory` (start more, e.g. a second hop), and
`sshd_ca` (also trusts user certificates signed by its own test CA: TrustedUserCAKeys). `openssh_client_config`
writes an ssh_config for the system client (openssh:// tests): ProxyCommand, ControlMaster, certificates.
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
    user_ca_path: Path | None = None  # private key of the CA in TrustedUserCAKeys (start_sshd(user_ca=True))

    def authorize(self, pub_path: Path) -> None:
        """Also accept this public key (appended to the server's authorized_keys)."""
        with open(self.directory / "authorized_keys", "a") as fh:
            fh.write(Path(pub_path).read_text())

    def sign_user_key(self, pub_path: Path, *, principal: str | None = None, identity: str = "collector-test-cert",
                      validity: str = "-5m:+1h") -> Path:
        """An OpenSSH user certificate for `pub_path` signed by this server's test CA; returns the -cert.pub path."""
        if self.user_ca_path is None:
            raise RuntimeError("this sshd has no user CA: start it with start_sshd(user_ca=True)")
        subprocess.run([SSH_KEYGEN, "-q", "-s", str(self.user_ca_path), "-I", identity, "-n",
                        principal or self.account.name, "-V", validity, str(pub_path)], check=True)
        return Path(str(pub_path).removesuffix(".pub") + "-cert.pub")

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
    user_ca: bool = False,
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
    user_ca_path = None
    if user_ca:  # user certificates signed by this CA log in (no authorized_keys entry needed)
        user_ca_path = directory / "user_ca"
        keygen(user_ca_path)
        extra_config += f"\nTrustedUserCAKeys {user_ca_path}.pub\n"
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
            user_ca_path=user_ca_path,
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


@pytest.fixture(scope="module")
def sshd_ca() -> Iterator[SshdServer]:
    """A real sshd that also trusts user certificates signed by its test CA (see SshdServer.sign_user_key)."""
    server = start_sshd(allow_tcp_forwarding=False, user_ca=True)
    try:
        yield server
    finally:
        server.cleanup()


def openssh_client_config(
    server: SshdServer,
    path: Path,
    *,
    alias: str = "dev",
    known_hosts: Path | None = None,
    proxy_command: bool = True,
    via_port: int | None = None,
    control_path: str | None = None,
    identity: Path | None = None,
    certificate: Path | None = None,
    extra: str = "",
) -> Path:
    """An ssh_config (for `ssh -F`) whose `Host alias` is this server: the test account, its own known_hosts,
    no agent and no keys unless given; optionally through `ProxyCommand socat` (to `via_port`, e.g. a fault proxy,
    instead of the server's port) and with ControlMaster auto."""
    kh = known_hosts or path.parent / "known_hosts"
    if known_hosts is None:
        kh.write_text(server.known_hosts_line)
    lines = [
        f"Host {alias}",
        "  HostName 127.0.0.1",
        f"  Port {server.port}",
        f"  User {server.account.name}",
        f"  UserKnownHostsFile {kh}",
        "  GlobalKnownHostsFile /dev/null",
        "  IdentityAgent none",
        "  ConnectTimeout 10",
    ]
    if proxy_command:
        lines.append(f"  ProxyCommand socat - TCP:127.0.0.1:{via_port or '%p'}")
    if control_path:
        lines += ["  ControlMaster auto", f"  ControlPath {control_path}", "  ControlPersist no"]
    if identity is not None:
        lines += [f"  IdentityFile {identity}", "  IdentitiesOnly yes"]
        if certificate is not None:
            lines.append(f"  CertificateFile {certificate}")
    else:
        lines.append("  PubkeyAuthentication no")
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


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
