"""SerialTransport against real components: agetty + login on a socat pty (serial://), the same console through
ser2net (rfc2217://), a raw TCP console (socket://), and the simulated pty console (5 MB, no byte lost).
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from collector.errors import ConnectionLost
from collector.sim.events import EventLog
from collector.sim.serial_console import SimSerialConsole
from collector.target import parse_target
from collector.transports.serial import SerialTransport
from tests.servers.agetty import AgettyConsole, agetty_console
from tests.servers.ser2net import ser2net_rfc2217

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def read_until(t: SerialTransport, pattern: bytes, timeout: float = 15.0, poke: bytes | None = None) -> bytes:
    """Read until `pattern` (regex) appears; optionally re-send `poke` every 2 s of silence (console wake-up)."""
    buf = bytearray()
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < deadline:
        data = t.read(0.5)
        if data:
            buf += data
            last = time.monotonic()
            if re.search(pattern, buf):
                return bytes(buf)
        elif poke is not None and time.monotonic() - last > 2.0:
            t.write(poke)
            last = time.monotonic()
    raise AssertionError(f"{pattern!r} not seen in {bytes(buf[-300:])!r}")


def login_and_run(t: SerialTransport, console: AgettyConsole, command: str) -> bytes:
    """Log in through the real /bin/login and return the command's output between markers."""
    t.write(b"\r")
    read_until(t, rb"login: $", poke=b"\r")
    t.write(console.account.name.encode() + b"\r")
    read_until(t, rb"Password: $")
    t.write(console.account.password.encode() + b"\r")
    read_until(t, rb"\$ (\x1b\[\?2004h)?$|\$ $")
    t.write(b"stty -echo; echo BE''GIN; " + command.encode() + b"; echo EN''D\r")
    out = read_until(t, rb"\r\nEND\r\n", timeout=30)
    body = out[out.index(b"BEGIN\r\n") + len(b"BEGIN\r\n") : out.rindex(b"END\r\n")]
    t.write(b"exit\r")
    return ANSI.sub(b"", body).replace(b"\r\n", b"\n")


@pytest.fixture
def console() -> Iterator[AgettyConsole]:
    with agetty_console() as con:
        yield con


@pytest.mark.servers
def test_real_agetty_login_over_serial_and_rfc2217_gives_identical_output(console: AgettyConsole) -> None:
    command = "seq 1 3000; uname -s"
    serial_t = SerialTransport(parse_target(f"serial://{console.path}?baud=9600&parity=N&bytesize=8&stopbits=1"))
    with serial_t:
        assert serial_t.info["framing"] == "8N1" and serial_t.line_rate == 9600 and serial_t.info["flow"] == "none"
        via_serial = login_and_run(serial_t, console, command)
    assert via_serial.startswith(b"1\n2\n3\n") and via_serial.endswith(b"3000\nLinux\n")

    with ser2net_rfc2217(console.path) as s2n:
        rfc_t = SerialTransport(parse_target(f"rfc2217://127.0.0.1:{s2n.port}?baud=9600"))
        assert "ign_set_control" in rfc_t.url and "poll_modem" in rfc_t.url
        with rfc_t:
            via_rfc2217 = login_and_run(rfc_t, console, command)
    assert hashlib.sha256(via_rfc2217).hexdigest() == hashlib.sha256(via_serial).hexdigest()
    assert console.starts >= 2  # a fresh agetty (real login:) for each session


@pytest.mark.servers
def test_rfc2217_terminal_server_going_away_is_connection_lost(console: AgettyConsole) -> None:
    with ser2net_rfc2217(console.path) as s2n:
        t = SerialTransport(parse_target(f"rfc2217://127.0.0.1:{s2n.port}"))
        t.open()
        t.write(b"\r")
        read_until(t, rb"login: $", poke=b"\r")
    # ser2net is stopped now: the next reads must end, not spin on empty reads
    with pytest.raises(ConnectionLost):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            t.read(0.5)
    t.close()


def blob(size: int) -> bytes:
    block = hashlib.sha256(b"collector").digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


class BlobDevice:
    """Writes `size` bytes as fast as the pty takes them when it receives a CR; counts blocked writes."""

    def __init__(self, size: int) -> None:
        self.data = blob(size)

    def serve(self, chan) -> None:  # type: ignore[no-untyped-def]
        while True:
            got = chan.recv(64)
            if not got:
                return
            if b"\r" in got:
                for i in range(0, len(self.data), 65536):
                    chan.sendall(self.data[i : i + 65536])


def test_5mb_through_a_pty_console_with_a_slow_reader_loses_no_byte() -> None:
    size = 5 * 1024 * 1024
    dev = BlobDevice(size)
    with SimSerialConsole(device=dev, events=EventLog()) as con:
        t = SerialTransport(parse_target(f"serial://{con.path}?baud=115200"))
        with t:
            t.write(b"\r")
            got = bytearray()
            # the device writes far faster than we read: stall with the pty full, then read; it must push back
            for _ in range(3):
                got += t.read(0.5)
                time.sleep(0.2)  # a deliberately stalled reader (the condition under test, not a wait for one)
            deadline = time.monotonic() + 15
            while len(got) < size and time.monotonic() < deadline:
                got += t.read(0.5)
    assert len(got) == size
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(dev.data).hexdigest()


@pytest.mark.slow
@pytest.mark.timeout(900)  # 5 MB at 11520 B/s is about 7.6 minutes
def test_5mb_at_a_real_115200_bps_rate_loses_no_byte() -> None:
    size = 5 * 1024 * 1024
    dev = BlobDevice(size)
    with SimSerialConsole(device=dev, events=EventLog(), throttle_bps=115200) as con:
        t = SerialTransport(parse_target(f"serial://{con.path}?baud=115200"))
        with t:
            t.write(b"\r")
            got = bytearray()
            deadline = time.monotonic() + 600
            while len(got) < size and time.monotonic() < deadline:
                got += t.read(1.0)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(dev.data).hexdigest()


def test_throttled_console_paces_to_the_line_rate() -> None:
    dev = BlobDevice(23040)  # 2 s at 115200 bps (11520 B/s)
    with SimSerialConsole(device=dev, events=EventLog(), throttle_bps=115200) as con:
        t = SerialTransport(parse_target(f"serial://{con.path}?baud=115200"))
        with t:
            t.write(b"\r")
            got = bytearray(t.read(5))
            started = time.monotonic()
            while len(got) < len(dev.data):
                got += t.read(5)
            took = time.monotonic() - started
    assert got == dev.data
    assert 1.7 < took < 4.0, took


def test_port_disappearing_is_connection_lost_not_an_empty_read_loop() -> None:
    con = SimSerialConsole(device=BlobDevice(1000), events=EventLog())
    t = SerialTransport(parse_target(f"serial://{con.path}"))
    t.open()
    t.write(b"\r")
    got = bytearray()
    while len(got) < 1000:
        got += t.read(2)
    con.close()  # the pty master goes away, like a USB adapter being unplugged
    with pytest.raises(ConnectionLost):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            t.read(0.5)
    assert not t.alive()
    t.close()
    t.close()  # safe twice


def test_rommon_console_shows_the_rommon_prompt() -> None:
    with SimSerialConsole(rommon=True) as con, SerialTransport(parse_target(f"serial://{con.path}")) as t:
        t.write(b"\r")
        assert b"rommon 1 > " in read_until(t, rb"rommon 1 > $")
        t.write(b"boot\r")
        read_until(t, rb"rommon 2 > $")
        t.send_break()


def test_socket_console_reads_and_end_of_stream() -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            assert conn.recv(10) == b"\r"
            conn.sendall(b"Router con0 is now available\r\n\r\nPress RETURN to get started.\r\n")

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    t = SerialTransport(parse_target(f"socket://127.0.0.1:{port}"))
    with t:
        t.write(b"\r")
        assert b"Press RETURN" in read_until(t, rb"started\.\r\n$")
        th.join(5)
        with pytest.raises(ConnectionLost):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                t.read(0.5)
    srv.close()


def test_read_timeout_returns_empty_and_waits_on_readiness() -> None:
    with SimSerialConsole(device=BlobDevice(10), events=EventLog()) as con:
        t = SerialTransport(parse_target(f"serial://{con.path}"))
        with t:
            started = time.monotonic()
            assert t.read(0.3) == b""
            assert 0.25 < time.monotonic() - started < 1.0
            assert t.alive()


def test_carrier_watch_on_a_line_with_dcd_raises_after_the_data() -> None:
    from collector.sim.modem import ModemEmulator

    class Talker:
        def serve(self, chan) -> None:  # type: ignore[no-untyped-def]
            chan.sendall(b"hello from the far end\r\n")
            while chan.recv(64):
                pass

    with ModemEmulator(Talker(), ["CONNECT 9600"], events=EventLog(), line_rate_bps=None, echo=False) as emu:
        t = SerialTransport(parse_target(f"serial:///dev/ttyS9?port={emu.register()}&carrier=watch"))
        with t:
            t.write(b"ATDT1\r")
            read_until(t, rb"hello from the far end\r\n$")
            assert t.carrier() is True and t.has_modem_lines
            t.set_dtr(False)  # &D2: the modem hangs up, DCD drops
            with pytest.raises(ConnectionLost, match="carrier lost"):
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    t.read(0.5)
