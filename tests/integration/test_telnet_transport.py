"""TelnetTransport against the real Debian telnetd (login:, shell, 0xFF, exit → ConnectionLost) and via SSH jumps.

Jump tests carry Telnet through a real sshd's direct-tcpip channel (no local listening port is opened).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.credentials import Credentials
from collector.errors import ConnectError, ConnectionLost
from collector.secrets import Secret
from collector.sim.profile import DeviceProfile
from collector.sim.telnet_server import SimTelnetServer
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from collector.transports.telnet import TelnetTransport
from tests.servers.ports import free_port
from tests.servers.sshd import SshdServer, sshd, sshd_noforward  # noqa: F401  (fixtures)
from tests.servers.telnetd import TelnetdServer, telnetd  # noqa: F401  (fixture)

pytestmark = pytest.mark.servers


def read_until(t: TelnetTransport, pred: Callable[[bytes], bool], timeout: float = 15.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while not pred(buf):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"never saw the expected bytes; got {buf[-500:]!r}")
        buf += t.read(min(left, 1.0))
    return buf


def login_shell(t: TelnetTransport, user: str, password: str) -> None:
    read_until(t, lambda b: b.rstrip(b" \t\r\n\x00").endswith(b"login:"))  # telnetd pads with NUL (CR NUL)
    t.write(user.encode() + b"\r")
    read_until(t, lambda b: b"Password:" in b)
    t.write(password.encode() + b"\r")
    read_until(t, lambda b: b.rstrip(b" \t\r\n\x00").endswith(b"$"))


def test_login_echo_and_exit_on_real_telnetd(telnetd: TelnetdServer) -> None:  # noqa: F811
    t = TelnetTransport(parse_target(telnetd.url), ConnectOptions(term="vt100"))
    t.open()
    try:
        login_shell(t, telnetd.account.name, telnetd.account.password)
        t.write(b"echo mark-$((6*7))\r")
        out = read_until(t, lambda b: b"mark-42\r\n" in b)
        assert b"mark-$((6*7))" in out  # the echo of what we typed, then the result
        # a 0xFF data byte from the host arrives as one 0xFF byte (telnetd sends IAC IAC)
        t.write(b"printf 'A\\377B\\n'\r")
        out = read_until(t, lambda b: b"A\xffB" in b)
        assert b"A\xff\xffB" not in out
        neg = t.negotiated()
        assert {"ECHO", "SGA"} <= set(neg["remote"]) and "TTYPE" in neg["local"]
        assert t.alive()
        assert t.return_key == b"\r"  # telnetd asked for our BINARY: CR alone is Return
        t.write(b"exit\r")
        deadline = time.monotonic() + 15
        with pytest.raises(ConnectionLost):
            while time.monotonic() < deadline:
                t.read(1.0)
        assert time.monotonic() < deadline, "EOF was not reported (a hang or empty reads)"
        assert not t.alive()
        with pytest.raises(ConnectionLost):
            t.write(b"\r")
    finally:
        t.close()
    assert t.info["transport"] == "telnet" and "ECHO" in t.info["options"]["remote"]


def test_connection_refused_is_a_connect_error() -> None:
    port = free_port()  # nothing listens there
    t = TelnetTransport(parse_target(f"telnet://127.0.0.1:{port}"), ConnectOptions(connect_timeout=5))
    with pytest.raises(ConnectError, match="connection refused"):
        t.open()
    t.close()


def test_unresolvable_host_is_a_connect_error() -> None:
    t = TelnetTransport(parse_target("telnet://no-such-host.invalid"), ConnectOptions(connect_timeout=5))
    with pytest.raises(ConnectError, match="cannot resolve"):
        t.open()


# ---- through an SSH jump host (direct-tcpip) ----------------------------------------------------------


def jump_options(server: SshdServer, tmp_path: Path) -> ConnectOptions:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line)
    acct = server.account
    return ConnectOptions(
        credentials=Credentials(username=acct.name, password=Secret(acct.password)),
        known_hosts=str(known),
        system_known_hosts=None,
        ssh_config=None,
        jumps=[parse_target(f"ssh://{acct.name}@127.0.0.1:{server.port}")],
        connect_timeout=10,
    )


def test_telnet_to_real_telnetd_through_ssh_jump(
    sshd: SshdServer, telnetd: TelnetdServer, tmp_path: Path  # noqa: F811
) -> None:
    t = TelnetTransport(parse_target(telnetd.url), jump_options(sshd, tmp_path))
    t.open()
    try:
        login_shell(t, telnetd.account.name, telnetd.account.password)
        t.write(b"echo via-$((40+2))\r")
        read_until(t, lambda b: b"via-42\r\n" in b)
        t.write(b"exit\r")
        with pytest.raises(ConnectionLost):
            read_until(t, lambda b: False)
    finally:
        t.close()
    assert t.info["jumps"] == [f"ssh://{sshd.account.name}@127.0.0.1:{sshd.port}"]


def test_sim_through_ssh_jump_is_byte_identical(sshd: SshdServer, tmp_path: Path) -> None:  # noqa: F811
    profile = DeviceProfile.load("cisco_ios", start_privileged=True, show_tech_bytes=2 << 20)
    with SimTelnetServer(profile) as srv:
        t = TelnetTransport(parse_target(srv.url), jump_options(sshd, tmp_path))
        t.open()
        try:
            read_until(t, lambda b: b.endswith(b"R1#"))
            t.write(b"terminal length 0\r")
            read_until(t, lambda b: b.endswith(b"R1#"))
            t.write(b"show running-config\r")
            out = read_until(t, lambda b: b.endswith(b"\r\nR1#"))
        finally:
            t.close()
        expected = b"".join(srv.device.expected_output("show running-config"))
        body = out.split(b"\r\n", 1)[1][: -len(b"R1#")]
        assert body.replace(b"\r\n", b"\n") == expected


def test_jump_host_that_forbids_forwarding_is_a_connect_error(
    sshd_noforward: SshdServer, tmp_path: Path  # noqa: F811
) -> None:
    t = TelnetTransport(parse_target("telnet://127.0.0.1:23"), jump_options(sshd_noforward, tmp_path))
    with pytest.raises(ConnectError) as err:
        t.open()
    assert "jump-mode shell" in err.value.hint
    t.close()


def test_unknown_jump_host_key_is_refused(sshd: SshdServer, tmp_path: Path) -> None:  # noqa: F811
    options = jump_options(sshd, tmp_path)
    Path(options.known_hosts or "").write_text("")
    t = TelnetTransport(parse_target("telnet://127.0.0.1:23"), options)
    with pytest.raises(ConnectError) as err:  # UnknownHostKey is a ConnectError
        t.open()
    assert type(err.value).__name__ == "UnknownHostKey"
