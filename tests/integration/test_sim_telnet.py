"""TelnetTransport against the simulator's Telnet front end: every login dialog, failed logins, 0xFF data, 50 MB.

Outputs are compared by SHA-256 with SimDevice.expected_output; attempts are counted in the device's EventLog.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collector.errors import ConnectionLost
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.sim.telnet_server import SimTelnetServer
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from collector.transports.telnet import TelnetTransport

Script = list[tuple[bytes, bytes]]  # (wait for this, then send that)


def read_until(t: TelnetTransport, pred: Callable[[bytes], bool], timeout: float = 10.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while not pred(buf):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"never saw the expected bytes; got {buf[-500:]!r}")
        buf += t.read(left)
    return buf


def run_script(t: TelnetTransport, script: Script) -> bytes:
    seen = b""
    for expect, send in script:
        seen += read_until(t, lambda b: b.endswith(expect))  # noqa: B023 (used before the next iteration)
        t.write(send)
    return seen


@pytest.fixture
def connect() -> Iterator[Callable[[SimTelnetServer], TelnetTransport]]:
    opened: list[TelnetTransport] = []

    def _connect(srv: SimTelnetServer) -> TelnetTransport:
        t = TelnetTransport(parse_target(srv.url), ConnectOptions(term="vt100"))
        t.open()
        opened.append(t)
        return t

    yield _connect
    for t in opened:
        t.close()


BANNER = "*** R1 lab: authorised use only #> R1# R1> ***"
DIALOGS: dict[str, tuple[dict[str, object], Script]] = {
    "none-banner": ({"mode": "none", "banner": BANNER}, []),
    "password-vty": ({"mode": "password"}, [(b"Password: ", b"cisco123\r")]),
    "username-password": (
        {"mode": "username-password"},
        [(b"Username: ", b"admin\r"), (b"Password: ", b"cisco123\r")],
    ),
    "username-password-otp": (
        {"mode": "username-password-otp", "otp": "424242"},
        [(b"Username: ", b"admin\r\n"), (b"Password: ", b"cisco123\r\n"), (b"OTP: ", b"424242\r\n")],
    ),
    "initial-config-dialog": (
        {"mode": "password", "initial_config_dialog": True},
        [(b"[yes/no]: ", b"no\r"), (b"Password: ", b"cisco123\r")],
    ),
    "press-return": (
        {"mode": "username-password", "press_return": True, "banner": BANNER},
        [
            (b"Press RETURN to get started!\r\n\r\n\r\n", b"\r"),
            (b"Username: ", b"admin\r"),
            (b"Password: ", b"cisco123\r"),
        ],
    ),
}


@pytest.mark.parametrize("name", list(DIALOGS))
def test_login_dialogs(name: str, connect: Callable[[SimTelnetServer], TelnetTransport]) -> None:
    login, script = DIALOGS[name]
    profile = DeviceProfile.load("cisco_ios", login=LoginDialog(**login))  # type: ignore[arg-type]
    with SimTelnetServer(profile) as srv:
        t = connect(srv)
        seen = run_script(t, script)
        seen += read_until(t, lambda b: b.endswith(b"R1>"))
        if login.get("banner"):
            assert BANNER.encode() in seen
        assert b"cisco123" not in seen  # passwords are not echoed
        t.write(b"show clock\r")
        out = read_until(t, lambda b: b.endswith(b"\r\nR1>"))
        assert out.startswith(b"show clock\r\n") and out.count(b"UTC") == 1
        t.write(b"exit\r")
        with pytest.raises(ConnectionLost):
            read_until(t, lambda b: False)
        assert srv.events.wait_count("disconnect", 1)
        logged_in = 0 if login["mode"] == "none" else 1
        assert srv.events.count("auth-ok", method="login") == logged_in
        assert srv.events.count("auth-fail") == 0
        assert srv.events.commands() == ["show clock", "exit"]
        assert srv.sessions[0]["ttype"] == "vt100" and srv.sessions[0]["naws"] == (200, 50)


def test_wrong_password_attempts_are_counted_and_end_the_session(
    connect: Callable[[SimTelnetServer], TelnetTransport],
) -> None:
    profile = DeviceProfile.load("cisco_ios", login={"mode": "username-password", "max_attempts": 3})
    with SimTelnetServer(profile) as srv:
        t = connect(srv)
        read_until(t, lambda b: b.endswith(b"Username: "))
        for attempt in range(3):
            t.write(b"admin\r")
            read_until(t, lambda b: b.endswith(b"Password: "))
            t.write(b"wrong\r")
            done = b"% Login invalid\r\n\r\n" if attempt == 2 else b"% Login invalid\r\n\r\nUsername: "
            read_until(t, lambda b: b.endswith(done))  # noqa: B023 (used before the next iteration)
        with pytest.raises(ConnectionLost):
            read_until(t, lambda b: False)
        assert srv.events.wait_count("disconnect", 1)
        assert srv.events.count("auth-attempt", method="login") == 3
        assert srv.events.count("auth-fail", method="login") == 3
        assert srv.events.count("auth-ok") == 0
        assert srv.events.commands() == []


def test_enable_with_secret_reaches_privileged_prompt(connect: Callable[[SimTelnetServer], TelnetTransport]) -> None:
    with SimTelnetServer(DeviceProfile.load("cisco_ios")) as srv:
        t = connect(srv)
        run_script(t, [(b"R1>", b"enable\r"), (b"Password: ", b"enable123\r")])
        read_until(t, lambda b: b.endswith(b"R1#"))
        assert srv.events.count("auth-ok", method="enable") == 1


def test_binary_bytes_cross_the_nvt_unchanged(
    tmp_path: Path, connect: Callable[[SimTelnetServer], TelnetTransport]
) -> None:
    # 0xFF (IAC), IAC IAC, a bare CR (sent as CR NUL), CR NUL as data, NUL padding
    payload = b"A\xffB\xff\xffC\rD\x00E\r\x00F\n\xff\n"
    (tmp_path / "show binary.txt").write_bytes(payload)
    profile = DeviceProfile(transcripts_dir=tmp_path, start_privileged=True)
    with SimTelnetServer(profile) as srv:
        t = connect(srv)
        read_until(t, lambda b: b.endswith(b"R1#"))
        t.write(b"show binary\r")
        out = read_until(t, lambda b: b.endswith(b"\r\nR1#"))
        body = out[len(b"show binary\r\n") : -len(b"R1#")]
        assert body == payload.replace(b"\n", b"\r\n")
        assert body.replace(b"\r\n", b"\n") == b"".join(srv.device.expected_output("show binary"))


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class _LfStream:
    """CR LF → LF on a stream (a CR at a chunk end waits for the next chunk), hashed without keeping it."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.count = 0
        self._cr = False

    def feed(self, data: bytes) -> None:
        if self._cr:
            data = b"\r" + data
        self._cr = data.endswith(b"\r")
        if self._cr:
            data = data[:-1]
        data = data.replace(b"\r\n", b"\n")
        self.sha.update(data)
        self.count += len(data)


def test_50mb_show_tech_is_byte_identical_with_bounded_memory(
    connect: Callable[[SimTelnetServer], TelnetTransport], record_property: Callable[[str, object], None]
) -> None:
    size = 50 * 1024 * 1024
    profile = DeviceProfile.load("cisco_ios", start_privileged=True, show_tech_bytes=size)
    with SimTelnetServer(profile) as srv:
        want = hashlib.sha256()
        want_len = 0
        for block in srv.device.expected_output("show tech-support"):
            want.update(block)
            want_len += len(block)
        assert want_len == size
        t = connect(srv)
        read_until(t, lambda b: b.endswith(b"R1#"))
        t.write(b"terminal length 0\r")
        read_until(t, lambda b: b.endswith(b"R1#"))
        t.write(b"show tech-support\r")
        echo = read_until(t, lambda b: b"\r\n" in b)
        assert echo.startswith(b"show tech-support\r\n")
        got = _LfStream()
        held = echo[len(b"show tech-support\r\n") :]
        rss0 = peak = _rss_kib()
        t0 = time.monotonic()
        reads = 0
        # hash everything but the last 3 bytes; the output is complete when those are the prompt and the
        # LF-normalised count is exactly the expected size (nothing follows a prompt until we type)
        while not (held == b"R1#" and got.count == want_len and not got._cr):
            data = t.read(10.0)
            assert data, f"the output stalled after {got.count} bytes"
            data = held + data
            got.feed(data[:-3])
            held = data[-3:]
            assert got.count <= want_len
            reads += 1
            if reads % 64 == 0:
                peak = max(peak, _rss_kib())
        elapsed = time.monotonic() - t0
        assert got.count == want_len
        assert got.sha.hexdigest() == want.hexdigest()
        rate = size / elapsed / 1e6
        growth_mb = (peak - rss0) / 1024
        record_property("telnet_50mb_MBps", round(rate, 1))
        record_property("telnet_50mb_rss_growth_MB", round(growth_mb, 1))
        print(f"\n50 MB show tech over Telnet: {rate:.1f} MB/s, RSS growth {growth_mb:.1f} MB")
        assert growth_mb < 40, f"memory grew by {growth_mb:.1f} MB while streaming 50 MB"
