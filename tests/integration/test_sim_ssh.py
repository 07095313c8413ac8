"""SimSSHServer against a plain paramiko client (Transport API): auth methods, exec, shell throughput."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from typer.testing import CliRunner

from collector.sim.cli import DEMO_PASSWORD, DEMO_USER, start_demo_server
from collector.sim.cli import app as sim_app
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer, fingerprint

WINDOW = 16 << 20


@pytest.fixture(scope="module")
def server() -> Iterator[SimSSHServer]:
    prof = DeviceProfile.load("cisco_ios", show_tech_bytes=50 << 20)
    with SimSSHServer(prof) as srv:
        yield srv


def connect(srv: SimSSHServer, **kw: object) -> paramiko.Transport:
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    t = paramiko.Transport(sock, default_window_size=WINDOW, default_max_packet_size=32768, **kw)  # type: ignore[arg-type]
    t.start_client(timeout=10)
    key = t.get_remote_server_key()
    assert fingerprint(key) == srv.fingerprint
    return t


def read_until(chan: paramiko.Channel, marker: bytes, buf: bytearray, timeout: float = 10.0) -> bytes:
    deadline = time.monotonic() + timeout
    chan.settimeout(timeout)
    start = 0
    while True:
        i = buf.find(marker, start)
        if i >= 0:
            out = bytes(buf[: i + len(marker)])
            del buf[: i + len(marker)]
            return out
        start = max(0, len(buf) - len(marker))
        assert time.monotonic() < deadline, f"{marker!r} not seen in time"
        data = chan.recv(1 << 20)
        assert data, f"EOF before {marker!r}"
        buf += data


def test_password_auth_and_wrong_password_counted(server: SimSSHServer) -> None:
    before = server.events.count("auth-attempt", user="admin", method="password")
    t = connect(server)
    with pytest.raises(paramiko.AuthenticationException):
        t.auth_password("admin", "wrong")
    t.close()
    t = connect(server)
    t.auth_password("admin", "cisco123")
    assert t.is_authenticated()
    t.close()
    assert server.events.count("auth-attempt", user="admin", method="password") == before + 2
    assert server.events.count("auth-fail", user="admin", method="password") >= 1


@pytest.mark.parametrize("separate", [True, False])
def test_keyboard_interactive_password_then_otp(separate: bool) -> None:
    ev = EventLog()
    with SimSSHServer(DeviceProfile.load("cisco_ios"), otp="123456", events=ev, otp_separate_round=separate) as srv:
        seen: list[list[str]] = []

        def handler(answers: dict[str, str]):  # type: ignore[no-untyped-def]
            def h(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
                seen.append([p for p, _ in prompts])
                return [answers[p.strip()] for p, _ in prompts]

            return h

        t = connect(srv)
        with pytest.raises(paramiko.AuthenticationException):
            t.auth_interactive("admin", handler({"Password:": "cisco123", "OTP:": "000000"}))
        t.close()
        t = connect(srv)
        with pytest.raises(paramiko.AuthenticationException):  # a password alone is not enough with OTP on
            t.auth_password("admin", "cisco123")
        t.close()
        t = connect(srv)
        t.auth_interactive("admin", handler({"Password:": "cisco123", "OTP:": "123456"}))
        assert t.is_authenticated()
        t.close()
        rounds = [["Password: "], ["OTP: "]] if separate else [["Password: ", "OTP: "]]
        assert seen[-len(rounds) :] == rounds
        # paramiko's auth_password falls back to keyboard-interactive when the first round has one prompt
        fallback = 1 if separate else 0
        assert ev.count("auth-attempt", user="admin", method="password") == 1
        assert ev.count("auth-attempt", user="admin", method="keyboard-interactive") == 2 + fallback
        assert ev.count("auth-fail", user="admin") == 2 + fallback
        assert ev.count("auth-ok", user="admin", method="keyboard-interactive") == 1


def test_publickey_auth() -> None:
    key = paramiko.ECDSAKey.generate()
    other = paramiko.ECDSAKey.generate()
    with SimSSHServer(DeviceProfile.load("cisco_ios"), authorized_keys=[key]) as srv:
        t = connect(srv)
        with pytest.raises(paramiko.AuthenticationException):
            t.auth_publickey("admin", other)
        t.close()
        t = connect(srv)
        t.auth_publickey("admin", key)
        assert t.is_authenticated()
        t.close()
        assert srv.events.count("auth-attempt", method="publickey") == 2


def test_exec_output_and_exit_status(server: SimSSHServer) -> None:
    t = connect(server)
    t.auth_password("admin", "cisco123")
    ch = t.open_session()
    ch.exec_command("show version")
    data = b""
    while chunk := ch.recv(65536):
        data += chunk
    assert ch.recv_exit_status() == 0
    assert data == b"".join(server.device.expected_output("show version"))
    ch = t.open_session()
    ch.exec_command("show bogus")
    while ch.recv(65536):
        pass
    assert ch.recv_exit_status() == 1
    t.close()
    assert "show version" in server.events.commands()


def test_show_tech_50mb_through_pty(server: SimSSHServer) -> None:
    t = connect(server)
    t.auth_password("admin", "cisco123")
    ch = t.open_session(window_size=WINDOW, max_packet_size=32768)
    ch.get_pty(width=200, height=24)
    ch.invoke_shell()
    buf = bytearray()
    read_until(ch, b"R1>", buf)
    ch.sendall(b"enable\r")
    read_until(ch, b"Password: ", buf)
    ch.sendall(b"enable123\r")
    read_until(ch, b"R1#", buf)
    ch.sendall(b"terminal length 0\r")
    read_until(ch, b"R1#", buf)
    ch.sendall(b"show tech-support\r")
    read_until(ch, b"show tech-support\r\n", buf)
    h = hashlib.sha256()
    n = 0
    tail = b""
    start = time.monotonic()
    done = False
    while not done:
        data = bytes(buf) + ch.recv(1 << 20)
        buf.clear()
        assert data, "EOF during show tech"
        data = tail + data
        if data.endswith(b"\r\nR1#"):
            data = data[: -len(b"R1#")]
            done = True
            tail = b""
        else:
            # keep a CR at the edge (CRLF split) and a possible partial prompt for the next round
            cut = len(data) - 4
            if data[cut - 1 : cut] == b"\r":
                cut -= 1
            data, tail = data[:cut], data[cut:]
        body = data.replace(b"\r\n", b"\n")
        h.update(body)
        n += len(body)
    elapsed = time.monotonic() - start
    ch.sendall(b"exit\r")
    t.close()
    expected = hashlib.sha256()
    for c in SimDevice(server.profile).expected_output("show tech-support"):
        expected.update(c)
    assert n == 50 << 20
    assert h.hexdigest() == expected.hexdigest()
    print(f"50 MB show tech over SSH pty: {elapsed:.2f} s ({50 / elapsed:.0f} MB/s)")
    assert elapsed < 8


def test_legacy_kex_only() -> None:
    with SimSSHServer(DeviceProfile.load("cisco_ios"), legacy=True) as srv:
        t = connect(srv)
        assert t.host_key_type == "ssh-rsa"
        t.auth_password("admin", "cisco123")
        t.close()
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        modern = paramiko.Transport(
            sock, disabled_algorithms={"kex": ["diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"]}
        )
        with pytest.raises(paramiko.SSHException):
            modern.start_client(timeout=10)
        modern.close()


def test_direct_tcpip_jump_to_second_device() -> None:
    target_prof = DeviceProfile.load("linux")
    with (
        SimSSHServer(DeviceProfile.load("linux"), allow_tcpip_forward=True) as jump,
        SimSSHServer(target_prof, users={"ops": "pw2"}) as target,
    ):
        jt = connect(jump)
        jt.auth_password("admin", "cisco123")
        tunnel = jt.open_channel("direct-tcpip", dest_addr=("127.0.0.1", target.port), src_addr=("127.0.0.1", 0))
        t = paramiko.Transport(tunnel)
        t.start_client(timeout=10)
        assert fingerprint(t.get_remote_server_key()) == target.fingerprint
        t.auth_password("ops", "pw2")
        ch = t.open_session()
        ch.exec_command("seq 3")
        data = b""
        while chunk := ch.recv(65536):
            data += chunk
        assert data == b"1\n2\n3\n" and ch.recv_exit_status() == 0
        t.close()
        jt.close()
    with SimSSHServer(DeviceProfile.load("linux")) as closed:
        jt = connect(closed)
        jt.auth_password("admin", "cisco123")
        with pytest.raises(paramiko.ChannelException):
            jt.open_channel("direct-tcpip", dest_addr=("127.0.0.1", 22), src_addr=("127.0.0.1", 0))
        jt.close()


def test_demo_server_helper_and_cli_sha(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    with start_demo_server("cisco_ios", show_tech_mb=0.5, events=events, host_key_path=str(tmp_path / "hk")) as srv:
        fp = srv.fingerprint
        t = connect(srv)
        t.auth_password(DEMO_USER, DEMO_PASSWORD)
        ch = t.open_session()
        ch.exec_command("show tech-support")
        h = hashlib.sha256()
        while chunk := ch.recv(1 << 20):
            h.update(chunk)
        t.close()
    assert srv.profile.show_tech_bytes == 1 << 19
    assert '"kind": "auth-ok"' in events.read_text()
    with start_demo_server("cisco_ios", host_key_path=str(tmp_path / "hk")) as again:
        assert again.fingerprint == fp  # the key file keeps the fingerprint stable across restarts
    res = CliRunner().invoke(sim_app, ["sha", "show tech-support", "--show-tech-mb", "0.5"])
    assert res.exit_code == 0, res.output
    assert res.output.split()[0] == h.hexdigest()
    assert res.output.split()[1] == str(1 << 19)
