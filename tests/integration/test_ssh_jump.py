"""Jump hosts against real sshds: direct-tcpip chains, host keys of every hop, forwarding refused, shell mode."""

from __future__ import annotations

import contextlib
import os
import pwd
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from collector.credentials import Credentials
from collector.errors import AuthenticationError, ConnectError, ConnectionLost, UnknownHostKey
from collector.secrets import Secret
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from collector.transports.hop_shell import HopShellTransport
from collector.transports.ssh import SSHTransport
from collector.transports.ssh_config import resolve_ssh_target
from collector.transports.ssh_jump import (
    FORWARDING_HINT,
    ForwardingRefused,
    close_jump_chain,
    hop_command,
    open_jump_channel,
    open_jump_shell_chain,
)
from tests.servers.ports import free_port
from tests.servers.sshd import SshdServer

pytestmark = pytest.mark.servers


def url(server: Any, user: str | None = None) -> str:
    user = user or server.account.name
    return f"ssh://{user}@127.0.0.1:{server.port}"


def options(tmp_path: Path, *servers: SshdServer, password: str | None = None, **kw: Any) -> ConnectOptions:
    kh = tmp_path / "known_hosts"
    kh.write_text("".join(s.known_hosts_line for s in servers))
    base: dict[str, Any] = {
        "credentials": Credentials(password=Secret(password) if password else None),
        "known_hosts": str(kh),
        "system_known_hosts": None,
        "ssh_config": None,
        "connect_timeout": 10.0,
    }
    base.update(kw)
    return ConnectOptions(**base)


def recv_until(read: Callable[[], bytes], needle: bytes, timeout: float = 10.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        assert time.monotonic() < deadline, f"{needle!r} never arrived; got {buf[-500:]!r}"
        buf += read()
    return buf


def chan_reader(chan: paramiko.Channel) -> Callable[[], bytes]:
    chan.settimeout(1.0)

    def read() -> bytes:
        try:
            data = chan.recv(65536)
        except TimeoutError:
            return b""
        assert data, "channel closed"
        return data

    return read


def test_ssh_through_jump_verifies_both_host_keys(sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path) -> None:
    opts = options(tmp_path, sshd, sshd_noforward, password=sshd.account.password, jumps=[parse_target(url(sshd))])
    with SSHTransport(parse_target(url(sshd_noforward)), opts) as t:
        assert isinstance(t, SSHTransport)
        assert t.info["host_key_fingerprint"] == sshd_noforward.host_key_fingerprint
        [hop] = t.info["jumps"]
        assert hop["host_key_fingerprint"] == sshd.host_key_fingerprint
        assert hop["host_key_status"] == "known"
        assert hop["target"] == url(sshd)
        t.write(b"echo via-$((6*7))\n")
        recv_until(lambda: t.read(1.0), b"via-42\r\n")
        # exec mode also rides the jump
        out = bytearray()
        assert t.exec_runner().run("seq 1 50000", out.extend, idle_timeout=10).exit_status == 0
        assert bytes(out) == b"".join(b"%d\n" % i for i in range(1, 50001))
    assert sshd.count("Accepted password") >= 1 and sshd_noforward.count("Accepted password") >= 1


def test_unknown_jump_host_key_is_refused(sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path) -> None:
    opts = options(tmp_path, sshd_noforward, password=sshd.account.password, jumps=[parse_target(url(sshd))])
    before = sshd.count(r"Accepted|Failed password")
    with pytest.raises(UnknownHostKey) as err:
        SSHTransport(parse_target(url(sshd_noforward)), opts).open()
    assert err.value.exit_code == 11
    assert "jump host" in err.value.message and sshd.host_key_fingerprint in err.value.message
    assert sshd.count(r"Accepted|Failed password") == before


def test_accept_new_records_every_hop(sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path) -> None:
    opts = options(tmp_path, password=sshd.account.password, jumps=[parse_target(url(sshd))], accept_new_host_key=True)
    with SSHTransport(parse_target(url(sshd_noforward)), opts) as t:
        assert t.info["jumps"][0]["host_key_status"] == "trusted on first use"
    recorded = Path(str(opts.known_hosts)).read_text()
    assert sshd.known_hosts_line in recorded and sshd_noforward.known_hosts_line in recorded


def test_forwarding_refused_points_to_shell_mode(sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path) -> None:
    opts = options(
        tmp_path, sshd, sshd_noforward, password=sshd.account.password, jumps=[parse_target(url(sshd_noforward))]
    )
    with pytest.raises(ConnectError) as err:
        SSHTransport(parse_target(url(sshd)), opts).open()
    assert err.value.hint == FORWARDING_HINT
    assert "prohibited" in err.value.message
    assert isinstance(err.value, ForwardingRefused) and err.value.exit_code == 10
    assert getattr(err.value, "retryable", True) is False


def test_jump_channel_is_a_socket_like_pipe_for_other_protocols(
    sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path
) -> None:
    """What the Telnet transport uses: a byte pipe to host:port as seen from the jump host."""
    opts = options(tmp_path, sshd, password=sshd.account.password)
    chan, hops = open_jump_channel([parse_target(url(sshd))], "127.0.0.1", sshd_noforward.port, opts)
    try:
        banner = recv_until(chan_reader(chan), b"\r\n")
        assert banner.startswith(b"SSH-2.0-OpenSSH")
        chan.sendall(b"SSH-2.0-collector-test\r\n")
        assert len(hops) == 1 and hops[0].is_active()
    finally:
        close_jump_chain(chan, hops)
    assert not hops[0].is_active()


def test_unreachable_destination_behind_jump(sshd: SshdServer, tmp_path: Path) -> None:
    from tests.servers.ports import free_port

    opts = options(tmp_path, sshd, password=sshd.account.password)
    with pytest.raises(ConnectError, match="could not connect"):
        open_jump_channel([parse_target(url(sshd))], "127.0.0.1", free_port(), opts)


def test_two_hops(sshd: SshdServer, sshd_factory: Callable[..., SshdServer], tmp_path: Path) -> None:
    second = sshd_factory(allow_tcp_forwarding=True)
    device = sshd_factory(allow_tcp_forwarding=False)
    opts = options(
        tmp_path,
        sshd,
        second,
        device,
        password=sshd.account.password,
        jumps=[parse_target(url(sshd)), parse_target(url(second))],
    )
    with SSHTransport(parse_target(url(device)), opts) as t:
        fps = [h["host_key_fingerprint"] for h in t.info["jumps"]]
        assert fps == [sshd.host_key_fingerprint, second.host_key_fingerprint]
        t.write(b"echo two-hops-$((1+1))\n")
        recv_until(lambda: t.read(1.0), b"two-hops-2\r\n")


def test_per_hop_credentials(sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path) -> None:
    """The jump host takes a password, the device only a key: each hop has its own credentials."""
    jump = parse_target(url(sshd))
    device_creds = Credentials(key_file=str(sshd_noforward.client_key_path))
    opts = options(
        tmp_path,
        sshd,
        sshd_noforward,
        credentials=device_creds,
        jumps=[jump],
        hop_credentials={jump.display(): Credentials(password=Secret(sshd.account.password))},
    )
    with SSHTransport(parse_target(url(sshd_noforward)), opts) as t:
        assert t.info["jumps"][0]["auth"] == ["password"]
        assert t.info["auth"] == ["publickey(client_ed25519)"]
    bad = {jump.display(): Credentials(password=Secret("wrong-pw-1"))}
    opts = options(tmp_path, sshd, sshd_noforward, credentials=device_creds, jumps=[jump], hop_credentials=bad)
    with pytest.raises(AuthenticationError, match=rf"127\.0\.0\.1:{sshd.port}"):
        SSHTransport(parse_target(url(sshd_noforward)), opts).open()


def test_jump_shell_mode(sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path) -> None:
    """Forwarding is forbidden on the DMZ host: its shell works, and a hop whose client fails says why."""
    opts = options(tmp_path, sshd_noforward, password=sshd.account.password, jump_mode="shell")
    chan, hops = open_jump_shell_chain([parse_target(url(sshd_noforward))], opts)
    try:
        chan.sendall(b"echo dmz-$((2*21))\n")
        recv_until(chan_reader(chan), b"dmz-42\r\n")
    finally:
        close_jump_chain(chan, hops)
    assert hop_command(parse_target("ssh://admin@10.9.8.7:2022")) == (
        "ssh -o StrictHostKeyChecking=yes -o NumberOfPasswordPrompts=1 -p 2022 admin@10.9.8.7"
    )
    assert hop_command(parse_target("telnet://10.0.0.1")) == "telnet 10.0.0.1 23"
    # the hop transport types its client command; a refused device port comes back as the jump prompt
    opts = options(tmp_path, sshd_noforward, password=sshd.account.password, jump_mode="shell",
                   jumps=[parse_target(url(sshd_noforward))])
    closed = parse_target(f"ssh://admin@127.0.0.1:{free_port()}")
    with HopShellTransport(closed, opts) as t:
        assert t.info["jump_mode"] == "shell" and t.info["hop_command"].endswith("admin@127.0.0.1")
        with pytest.raises(ConnectError, match="could not reach the device"):
            recv_until(lambda: t.read(1.0), b"never")


def test_proxyjump_from_ssh_config(sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path) -> None:
    cfg = tmp_path / "ssh_config"
    cfg.write_text(
        f"Host dmz\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.account.name}\n\n"
        f"Host router1\n  HostName 127.0.0.1\n  Port {sshd_noforward.port}\n  User {sshd.account.name}\n"
        "  ProxyJump dmz\n"
    )
    opts = options(tmp_path, sshd, sshd_noforward, password=sshd.account.password, ssh_config=str(cfg))
    with SSHTransport(parse_target("ssh://router1"), opts) as t:
        assert [h["host_key_fingerprint"] for h in t.info["jumps"]] == [sshd.host_key_fingerprint]
        assert t.info["host_key_fingerprint"] == sshd_noforward.host_key_fingerprint


def test_config_resolution_rules(tmp_path: Path) -> None:
    key = tmp_path / "id_test"
    key.write_text("not used here")
    cfg = tmp_path / "ssh_config"
    cfg.write_text(
        "Host a\n  HostName 10.0.0.1\n  User ua\n  Port 2201\n  ProxyJump z\n"
        "Host z\n  HostName 10.0.0.26\n  User uz\n"
        "Host b\n  HostName 10.0.0.2\n  ProxyJump none\n"
        f"Host dev\n  HostName 10.9.9.9\n  User udev\n  Port 830\n  IdentityFile {key}\n  ProxyJump a,b:2222\n"
        "Host loop\n  ProxyJump loop\n"
    )
    opts = ConnectOptions(ssh_config=str(cfg))
    target, jumps, files = resolve_ssh_target(parse_target("ssh://dev"), opts)
    assert (target.host, target.user, target.port) == ("10.9.9.9", "udev", 830)
    assert files == [str(key)]
    assert [(j.host, j.user, j.port) for j in jumps] == [
        ("10.0.0.26", "uz", 22),  # z reaches a (a's own ProxyJump)
        ("10.0.0.1", "ua", 2201),
        ("10.0.0.2", None, 2222),  # explicit port in ProxyJump wins over the config
    ]
    # explicit values on the command line win
    target, jumps, _ = resolve_ssh_target(parse_target("ssh://me@dev:2022"), opts)
    assert (target.user, target.port) == ("me", 2022)
    opts.jumps = [parse_target("ssh://b")]
    _, jumps, _ = resolve_ssh_target(parse_target("ssh://dev"), opts)
    assert [j.host for j in jumps] == ["10.0.0.2"]
    with pytest.raises(Exception, match="too deep"):
        resolve_ssh_target(parse_target("ssh://loop"), ConnectOptions(ssh_config=str(cfg)))
    # disabled config: untouched
    opts = ConnectOptions(ssh_config=None)
    assert resolve_ssh_target(parse_target("ssh://dev"), opts) == (parse_target("ssh://dev"), [], [])


def test_jump_shell_mode_reaches_the_device_with_the_hosts_ssh_client(
    sshd: SshdServer, sshd_noforward: SshdServer, tmp_path: Path
) -> None:
    """End to end in shell mode: the hop transport types its command; the device's prompts pass through."""
    import shutil

    if not shutil.which("ssh"):
        pytest.skip("the OpenSSH client is missing on the jump host (install openssh-client)")
    jumps = [parse_target(url(sshd_noforward))]
    opts = options(tmp_path, sshd_noforward, password=sshd.account.password, jump_mode="shell", jumps=jumps)
    device = parse_target(url(sshd))
    # no known host key for the device on the jump host: its client refuses, and so do we
    with (jump_known_hosts(sshd.account.home, ""), HopShellTransport(device, opts) as t,
          pytest.raises(UnknownHostKey, match="(?i)host key verification failed")):
        recv_until(lambda: t.read(1.0), b"never")
    with jump_known_hosts(sshd.account.home, sshd.known_hosts_line):
        with HopShellTransport(device, opts) as t:  # a wrong device password: refused, never retried
            recv_until(lambda: t.read(1.0), b"password: ")
            t.write(b"wrong-password-1\n")
            with pytest.raises(AuthenticationError, match="refused the login"):
                recv_until(lambda: t.read(1.0), b"never")
        with HopShellTransport(device, opts) as t:
            read = lambda: t.read(1.0)  # noqa: E731
            recv_until(read, b"password: ")
            t.write(sshd.account.password.encode() + b"\n")
            recv_until(read, b"$ ")  # the device's shell prompt (typing ahead of it may be dropped)
            t.write(b"echo inner-$SSH_CONNECTION-$((5*5))\n")
            out = recv_until(read, b"-25\r\n")
            assert f" {sshd.port}-25".encode() in out  # the inner session really is on the device's sshd
            t.write(b"exit\n")
            with pytest.raises(ConnectionLost, match="back at the jump host"):
                recv_until(read, b"never")


@contextlib.contextmanager
def jump_known_hosts(home: str, line: str) -> Iterator[None]:
    """The test account's own known_hosts (the jump host's ssh client reads it), restored afterwards."""
    path = Path(home) / ".ssh" / "known_hosts"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    old = path.read_bytes() if path.exists() else None
    path.write_text(line)
    account = pwd.getpwnam(Path(home).name)
    for p in (path.parent, path):
        os.chown(p, account.pw_uid, account.pw_gid)
    try:
        yield
    finally:
        if old is None:
            path.unlink()
        else:
            path.write_bytes(old)
