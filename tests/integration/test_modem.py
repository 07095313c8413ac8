"""Dial-up end to end: the modem transport dials the emulator, logs in to the simulated router behind it, runs
commands (byte-exact against SimDevice.expected_output), survives carrier loss correctly, and always hangs up.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator

import pytest

from collector.errors import ConnectionLost
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.modem import ModemEmulator
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.target import parse_target
from collector.transports.modem import ModemTransport

FAST = "retry_wait=0.01&retry_jitter=0&dtr_hold=0.05&guard=0.05&probe_after=0.3&command_timeout=0.5"


def read_until(t: ModemTransport, pattern: bytes, timeout: float = 10.0) -> bytes:
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        buf += t.read(0.5)
        if re.search(pattern, buf):
            return bytes(buf)
    raise AssertionError(f"{pattern!r} not seen in {bytes(buf[-300:])!r}")


def router(events: EventLog) -> SimDevice:
    profile = DeviceProfile.load(
        "cisco_ios", login=LoginDialog(mode="username-password", banner=""), show_tech_bytes=200_000
    )
    return SimDevice(profile, events)


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture(params=["pty", "fakemodem"])
def dialup(request: pytest.FixtureRequest, events: EventLog) -> Iterator[tuple[ModemEmulator, str]]:
    emu = ModemEmulator(router(events), ["BUSY", "CONNECT 33600/ARQ/V42BIS"], events=events, guard_time=0.05,
                        line_rate_bps=None)  # fmt: skip
    url = (
        f"modem://{emu.start_pty()}?number=5551234&{FAST}"
        if request.param == "pty"
        else f"modem:///dev/ttyS0?number=5551234&port={emu.register()}&{FAST}"
    )
    try:
        yield emu, url
    finally:
        emu.close()


def login(t: ModemTransport) -> None:
    read_until(t, rb"Username: $")
    t.write(b"admin\r")
    read_until(t, rb"Password: $")
    t.write(b"cisco123\r")
    read_until(t, rb"R1>$")
    t.write(b"enable\r")
    read_until(t, rb"Password: $")
    t.write(b"enable123\r")
    read_until(t, rb"R1#$")
    t.write(b"terminal length 0\r")
    read_until(t, rb"R1#$")


def run(t: ModemTransport, command: str) -> bytes:
    t.write(command.encode() + b"\r")
    out = read_until(t, rb"\r\nR1#$", timeout=20)
    body = out[out.index(b"\r\n") + 2 : -len(b"R1#")]
    return body.replace(b"\r\n", b"\n")


def test_dial_login_and_collect_byte_exact(dialup: tuple[ModemEmulator, str], events: EventLog) -> None:
    emu, url = dialup
    t = ModemTransport(parse_target(url))
    with t:
        assert t.info["dial_attempts"] == 2 and t.info["dial_results"] == ["BUSY", "CONNECT 33600/ARQ/V42BIS"]
        assert (t.info["connect_rate"], t.info["protocol"]) == (33600, "ARQ/V42BIS")
        login(t)
        for command in ("show version", "show tech-support"):
            expected = b"".join(SimDevice(router(EventLog()).profile).expected_output(command))
            got = run(t, command)
            assert hashlib.sha256(got).hexdigest() == hashlib.sha256(expected).hexdigest(), command
    assert "show tech-support" in events.commands()
    assert emu.hangup_requests() >= 1
    assert t.info["hangup"] in (["dtr"], ["escape"])


def test_device_logout_ends_the_call_as_connection_lost(dialup: tuple[ModemEmulator, str], events: EventLog) -> None:
    """Cisco AUX `modem InOut`: `exit` drops the call, the modem says NO CARRIER; that is a clean end, not data loss."""
    emu, url = dialup
    t = ModemTransport(parse_target(url))
    with t:
        login(t)
        t.write(b"exit\r")
        tail = bytearray()
        with pytest.raises(ConnectionLost):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                tail += t.read(0.5)
        assert tail.endswith(b"\r\nNO CARRIER\r\n")
    assert events.count("modem-carrier-drop", why="remote-hangup") == 1


def test_throttled_line_rate_is_respected(events: EventLog) -> None:
    """At an emulated 38400 bps (3840 B/s) 8 KiB must take about 2.1 s: the pacing is real."""

    class Blob:
        data = bytes(range(256)) * 32

        def serve(self, chan) -> None:  # type: ignore[no-untyped-def]
            chan.recv(1)
            chan.sendall(self.data)
            while chan.recv(64):
                pass

    with ModemEmulator(Blob(), ["CONNECT 38400"], events=events, guard_time=0.05, line_rate_bps=38400) as emu:
        t = ModemTransport(parse_target(f"modem:///dev/ttyS0?number=1&port={emu.register()}&{FAST}"))
        with t:
            t.write(b"\r")
            got = bytearray(t.read(5))
            started = time.monotonic()
            while len(got) < len(Blob.data):
                got += t.read(5)
            took = time.monotonic() - started
        assert got == Blob.data
        assert 1.8 < took < 4.0, took


def test_carrier_drop_mid_show_tech_keeps_the_data_and_reports_the_drop(events: EventLog) -> None:
    emu = ModemEmulator(router(events), ["CONNECT 9600"], events=events, guard_time=0.05, line_rate_bps=None,
                        drop_after_bytes=50_000)  # fmt: skip
    with emu:
        t = ModemTransport(parse_target(f"modem://{emu.start_pty()}?number=1&{FAST}"))
        t.open()
        login(t)
        t.write(b"show tech-support\r")
        got = bytearray()
        with pytest.raises(ConnectionLost, match="carrier lost"):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                got += t.read(0.5)
        t.close()
    body = bytes(got).split(b"\r\n", 1)[1].replace(b"\r\n", b"\n")
    expected = b"".join(SimDevice(router(EventLog()).profile).expected_output("show tech-support"))
    kept = body[: -len(b"\nNO CARRIER\n")].rstrip(b"\r")
    assert body.endswith(b"\nNO CARRIER\n") and expected.startswith(kept) and len(kept) > 40_000
    assert events.count("modem-carrier-drop", why="bytes") == 1
