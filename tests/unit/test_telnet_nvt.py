"""NVT rules of the Telnet transport and the simulator's Telnet server, over socketpairs (no network).

IAC IAC both ways, CR NUL across chunk boundaries, option replies (ECHO, SGA, BINARY, NAWS, TTYPE), EOF.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from collector.errors import ConnectionLost
from collector.sim.telnet_server import TelnetChannel
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from collector.transports.telnet import TelnetTransport, naws_size
from collector.transports.telnet_nvt import (
    BINARY,
    DO,
    DONT,
    ECHO,
    IAC,
    NAWS,
    SB,
    SE,
    SGA,
    TTYPE,
    WILL,
    WONT,
    Command,
    CrNulFilter,
    NvtParser,
    command,
    encode_output,
    escape_iac,
    subnegotiation,
)

# ---- pure helpers --------------------------------------------------------------------------------------


def test_escape_iac_doubles_every_ff() -> None:
    assert escape_iac(b"a\xffb\xff\xff") == b"a\xff\xffb\xff\xff\xff\xff"
    assert escape_iac(b"plain") == b"plain"


def test_encode_output_sends_bare_cr_as_cr_nul_outside_binary() -> None:
    assert encode_output(b"a\r\nb\rc\r") == b"a\r\nb\r\x00c\r\x00"
    assert encode_output(b"a\r\nb\rc", binary=True) == b"a\r\nb\rc"
    assert encode_output(b"\xff\r") == b"\xff\xff\r\x00"


@pytest.mark.parametrize(
    ("chunks", "want"),
    [
        ([b"a\r\x00b"], b"a\rb"),
        ([b"a\r", b"\x00b"], b"a\rb"),  # CR NUL split across reads
        ([b"a\r", b"\x00", b"\x00b"], b"a\r\x00b"),  # only the first NUL belongs to the CR
        ([b"a\r\n", b"\x00"], b"a\r\n\x00"),  # CR LF is kept; a later NUL is data
        ([b"a\r\x00", b"\x00"], b"a\r\x00"),
        ([b"\x00\x00x"], b"\x00\x00x"),  # NUL padding without CR is data
        ([b"\r\r\x00"], b"\r\r"),
    ],
)
def test_cr_nul_filter(chunks: list[bytes], want: bytes) -> None:
    f = CrNulFilter()
    assert b"".join(f.feed(c) for c in chunks) == want


def _feed_bytewise(p: NvtParser, wire: bytes) -> tuple[bytes, list[Command]]:
    data, cmds = b"", []
    for i in range(len(wire)):
        d, c = p.feed(wire[i : i + 1])
        data += d
        cmds += c
    return data, cmds


def test_parser_separates_data_commands_and_subnegotiation_even_byte_by_byte() -> None:
    wire = (
        b"x\xff\xffy"
        + command(WILL, ECHO)
        + b"\r\x00z"
        + subnegotiation(NAWS, bytes([0, 255, 0, 50]))  # a 255 inside SB is doubled on the wire
        + bytes([IAC, 241])  # NOP
        + b"\r\n"
    )
    for data, cmds in (NvtParser().feed(wire), _feed_bytewise(NvtParser(), wire)):
        assert data == b"x\xffy\rz\r\n"
        assert cmds == [Command(WILL, ECHO), Command(SB, NAWS, bytes([0, 255, 0, 50])), Command(241)]


def test_naws_size_replaces_values_telnet_servers_refuse() -> None:
    assert naws_size(ConnectOptions()) == (200, 50)  # width 511 / height 0 are session defaults
    assert naws_size(ConnectOptions(width=132, height=40)) == (132, 40)


# ---- the client over a socketpair -----------------------------------------------------------------------


class FakeServer:
    """The far end of a socketpair: raw bytes in and out, with condition polling (no fixed sleeps)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.raw = bytearray()
        self.sock.settimeout(0.05)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def wait_raw(self, pred: Callable[[bytes], bool], timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while not pred(bytes(self.raw)):
            if time.monotonic() > deadline:
                raise AssertionError(f"server never saw the expected bytes; got {bytes(self.raw)!r}")
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise AssertionError(f"client closed; got {bytes(self.raw)!r}")
            self.raw += chunk
        return bytes(self.raw)


def read_until(t: TelnetTransport, pred: Callable[[bytes], bool], timeout: float = 5.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while not pred(buf):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"client never read the expected bytes; got {buf!r}")
        buf += t.read(left)
    return buf


@pytest.fixture
def pair() -> Iterator[tuple[TelnetTransport, FakeServer]]:
    a, b = socket.socketpair()
    t = TelnetTransport(parse_target("telnet://device.test"), ConnectOptions(term="vt100", width=132, height=40))
    t.open_on(a)
    try:
        yield t, FakeServer(b)
    finally:
        t.close()
        b.close()


def test_option_replies_echo_sga_naws_ttype(pair: tuple[TelnetTransport, FakeServer]) -> None:
    t, srv = pair
    srv.send(command(WILL, ECHO) + command(WILL, SGA) + command(DO, NAWS) + command(DO, TTYPE))
    naws = subnegotiation(NAWS, bytes([0, 132, 0, 40]))
    want = [command(DO, ECHO), command(DO, SGA), command(WILL, NAWS), naws, command(WILL, TTYPE)]
    srv.wait_raw(lambda raw: all(w in raw for w in want))
    srv.send(subnegotiation(TTYPE, b"\x01"))  # SEND
    srv.wait_raw(lambda raw: subnegotiation(TTYPE, b"\x00vt100") in raw)
    srv.send(b"R1>")
    assert read_until(t, lambda b: b"R1>" in b) == b"R1>"  # negotiation never leaks into the data
    # (the options were processed on the loop thread before these data bytes, so their state is settled)
    neg = t.negotiated()
    assert {"ECHO", "SGA"} <= set(neg["remote"]) and {"NAWS", "TTYPE"} <= set(neg["local"])
    assert t.return_key == b"\r\n"  # NVT Return while we do not send BINARY


def test_binary_and_unknown_options(pair: tuple[TelnetTransport, FakeServer]) -> None:
    t, srv = pair
    srv.send(command(DO, BINARY) + command(DO, 99))
    srv.wait_raw(lambda raw: command(WILL, BINARY) in raw and command(WONT, 99) in raw)
    deadline = time.monotonic() + 5  # the option state is set on the loop thread right after the reply
    while t.return_key != b"\r":
        assert time.monotonic() < deadline
        time.sleep(0.001)
    srv.send(command(WILL, BINARY))
    srv.wait_raw(lambda raw: command(DO, BINARY) in raw)
    srv.send(b"a\r\x00b|")  # in BINARY, CR NUL is two data bytes
    assert read_until(t, lambda b: b.endswith(b"|")) == b"a\r\x00b|"
    assert "BINARY" in t.negotiated()["remote"]
    srv.send(command(WONT, BINARY) + b"c\r\x00d|")  # BINARY off again: CR NUL means CR
    assert read_until(t, lambda b: b.endswith(b"|")) == b"c\rd|"


def test_iac_iac_and_cr_nul_inbound(pair: tuple[TelnetTransport, FakeServer]) -> None:
    t, srv = pair
    srv.send(b"a\xff\xffb\r\x00c\r\nd\x00|")
    assert read_until(t, lambda b: b.endswith(b"|")) == b"a\xffb\rc\r\nd\x00|"
    srv.send(b"x\r")
    assert read_until(t, lambda b: b.endswith(b"\r")) == b"x\r"
    srv.send(b"\x00y|")  # the NUL completing that CR arrives in a later read
    assert read_until(t, lambda b: b.endswith(b"|")) == b"y|"


def test_iac_escaped_outbound_and_return_keys_untouched(pair: tuple[TelnetTransport, FakeServer]) -> None:
    t, srv = pair
    t.write(b"M\xffN\r\n")
    t.write(b"P\r")
    raw = srv.wait_raw(lambda raw: b"P\r" in raw)
    assert b"M\xff\xffN\r\n" in raw


def test_read_timeout_returns_empty_then_eof_raises(pair: tuple[TelnetTransport, FakeServer]) -> None:
    t, srv = pair
    t0 = time.monotonic()
    assert t.read(0.2) == b""
    assert 0.15 <= time.monotonic() - t0 < 2.0
    assert t.read(0) == b""
    srv.send(b"bye\r\n")
    srv.sock.shutdown(socket.SHUT_WR)
    assert read_until(t, lambda b: b.endswith(b"\r\n")) == b"bye\r\n"  # bytes before the end are kept
    with pytest.raises(ConnectionLost):
        t.read(5)
    with pytest.raises(ConnectionLost):  # and again: never an endless loop of empty reads
        t.read(5)
    assert not t.alive()


def test_reset_after_data_delivers_the_data_then_connection_lost(pair: tuple[TelnetTransport, FakeServer]) -> None:
    t, srv = pair
    srv.send(b"last words|")
    assert read_until(t, lambda b: b.endswith(b"|")) == b"last words|"
    srv.sock.close()
    with pytest.raises(ConnectionLost):
        read_until(t, lambda b: False)
    with pytest.raises(ConnectionLost):
        t.write(b"x")
    t.close()
    t.close()  # twice is fine


def test_blocking_read_wakes_on_data_without_polling(pair: tuple[TelnetTransport, FakeServer]) -> None:
    t, srv = pair
    timer = threading.Timer(0.1, lambda: srv.send(b"late"))
    timer.start()
    t0 = time.monotonic()
    assert t.read(None) == b"late"
    assert time.monotonic() - t0 < 2.0
    timer.join()


# ---- client against the simulator's TelnetChannel ------------------------------------------------------


def test_client_and_sim_channel_are_byte_transparent_both_ways() -> None:
    a, b = socket.socketpair()
    chan = TelnetChannel(b)
    t = TelnetTransport(parse_target("telnet://sim.test"), ConnectOptions(term="vt100"))
    t.open_on(a)
    try:
        chan.start()
        payload = b"x\xff\r\x00y\rz\r\n\x00\xff\xff"
        chan.sendall(payload)
        chan.sendall(b"|")
        assert read_until(t, lambda d: d.endswith(b"|")) == payload + b"|"
        t.write(b"a\xffb\r\n")
        got = b""
        deadline = time.monotonic() + 5
        while not got.endswith(b"\r\n") and time.monotonic() < deadline:
            got += chan.recv(100)
        assert got == b"a\xffb\r\n"
        # what each side learned from the other: round trips until the TTYPE answer has been processed
        deadline = time.monotonic() + 5
        while chan.ttype is None or chan.naws is None:
            assert time.monotonic() < deadline, chan.info
            t.write(b".")
            assert chan.recv(100) == b"."
        assert chan.ttype == "vt100" and chan.naws == (200, 50)
        assert {"ECHO", "SGA"} <= set(chan.info["local"])
        assert {"ECHO", "SGA"} <= set(t.negotiated()["remote"])
    finally:
        t.close()
        chan.close()


def test_sim_channel_refuses_unknown_options_and_acknowledges_without_loops() -> None:
    a, b = socket.socketpair()
    chan = TelnetChannel(b)
    srv_side = FakeServer(a)  # here the "fake" plays the client
    try:
        chan.start()
        srv_side.wait_raw(lambda raw: command(DO, NAWS) in raw)
        # the client agrees to what was asked (no reply expected), asks for LINEMODE (refused), sends data
        a.sendall(command(DO, ECHO) + command(DO, SGA) + command(WILL, TTYPE) + command(WILL, 34) + b"hi\r\x00")
        assert chan.recv(100) == b"hi\r"
        raw = srv_side.wait_raw(lambda r: command(DONT, 34) in r and subnegotiation(TTYPE, b"\x01") in r)
        assert command(WILL, ECHO) in raw and raw.count(command(WILL, ECHO)) == 1  # no echo of the ack
        assert command(DO, TTYPE) in raw and raw.count(command(DO, TTYPE)) == 1
        a.sendall(bytes([IAC, SB, TTYPE, 0]) + b"VT100" + bytes([IAC, SE]) + b"!")
        assert chan.recv(100) == b"!"
        assert chan.ttype == "VT100"
    finally:
        chan.close()
        a.close()


def test_close_from_another_thread_releases_a_blocked_reader(pair: tuple[TelnetTransport, FakeServer]) -> None:
    t, _srv = pair
    outcome: list[BaseException | bytes] = []

    def reader() -> None:
        try:
            outcome.append(t.read(None))
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    th = threading.Thread(target=reader)
    th.start()
    deadline = time.monotonic() + 5
    while not (t._lt is not None and t._lt._pending):  # the read is in flight on the loop thread
        assert time.monotonic() < deadline
        time.sleep(0.001)
    t.close()
    th.join(5.0)
    assert not th.is_alive(), "read(None) still blocked after close()"
    assert len(outcome) == 1 and isinstance(outcome[0], ConnectionLost)
    with pytest.raises(ConnectionLost):
        t.read(0.1)
