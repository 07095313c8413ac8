"""The modem dialer against the Hayes emulator (fakemodem:// with DTR/DCD, and a pty without modem lines).

Policy rows with attempts counted and waits observed; hang-up on every exit path; carrier loss mid-output.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest

from collector.errors import ConnectionLost, UsageError
from collector.sim.events import EventLog
from collector.sim.modem import ModemEmulator
from collector.target import parse_target
from collector.transports.dial_policy import DialFailed, DialRefused, LineFault, ModemConfigError
from collector.transports.modem import ModemTransport, parse_duration

FAST = "retry_wait=0.01&retry_jitter=0&dtr_hold=0.02&guard=0.05&probe_after=0.2&command_timeout=0.5"


class Blob:
    """A device that writes `size` deterministic bytes as soon as the call is up, then waits."""

    def __init__(self, size: int, pause_at: int | None = None, pause: float = 0.0) -> None:
        self.size, self.pause_at, self.pause = size, pause_at, pause
        self.data = bytes((i * 7 + i // 251) & 0xFF for i in range(size))

    def serve(self, chan) -> None:  # type: ignore[no-untyped-def]
        if self.pause_at is None:
            chan.sendall(self.data)
        else:
            chan.sendall(self.data[: self.pause_at])
            time.sleep(self.pause)  # the simulated device goes quiet mid-output (what the test is about)
            chan.sendall(self.data[self.pause_at :])
        while chan.recv(4096):
            pass


def modem(url: str, extra: str = "", sleep=None) -> ModemTransport:  # type: ignore[no-untyped-def]
    return ModemTransport(parse_target(f"modem:///dev/fake?number=5551234&port={url}&{FAST}{extra}"), sleep=sleep)


def pty_modem(path: str, extra: str = "") -> ModemTransport:
    return ModemTransport(parse_target(f"modem://{path}?number=5551234&{FAST}{extra}"))


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def emulators() -> Iterator[list[ModemEmulator]]:
    made: list[ModemEmulator] = []
    yield made
    for emu in made:
        emu.close()


def fake(emulators: list[ModemEmulator], events: EventLog, script, device=None, **kw) -> tuple[ModemEmulator, str]:  # type: ignore[no-untyped-def]
    emu = ModemEmulator(device or Blob(0), script, events=events, guard_time=0.05, **kw)
    emulators.append(emu)
    return emu, emu.register()


def read_all(t: ModemTransport, n: int, timeout: float = 10.0) -> bytes:
    got = bytearray()
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += t.read(0.5)
    return bytes(got)


def read_until_lost(t: ModemTransport, timeout: float = 10.0) -> tuple[bytes, ConnectionLost]:
    got = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got += t.read(0.5)
        except ConnectionLost as exc:
            return bytes(got), exc
    raise AssertionError(f"no ConnectionLost after {len(got)} bytes")


# -- retry policy ------------------------------------------------------------------------------------------------------
def test_busy_twice_then_connect_dials_exactly_three_times_with_waits(emulators, events) -> None:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    emu, url = fake(emulators, events, ["BUSY", "BUSY", "CONNECT 9600/ARQ/V42BIS"], device=Blob(100))
    t = modem(url, sleep=slept.append)
    t.open()
    try:
        assert events.count("modem-dial") == 3 and emu.dials == 3
        assert t.info["dial_attempts"] == 3
        assert t.info["dial_results"] == ["BUSY", "BUSY", "CONNECT 9600/ARQ/V42BIS"]
        assert t.info["dial_waits"] == [0.01, 0.02]  # exponential, no jitter in this test
        assert slept[:2] == [0.01, 0.02]
        assert (t.info["connect_rate"], t.info["protocol"]) == (9600, "ARQ/V42BIS")
        assert t.line_rate == 9600
        assert read_all(t, 100) == Blob(100).data
    finally:
        t.close()
    assert events.count("modem-dtr-drop") >= 1 and events.count("modem-hangup", how="dtr") == 1


@pytest.mark.parametrize("result", ["NO DIALTONE", "NO DIAL TONE", "NO LINE", "LINE IN USE"])
def test_local_line_fault_stops_after_one_attempt(emulators, events, result) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, [result, "CONNECT 9600"])
    t = modem(url)
    with pytest.raises(LineFault) as info:
        t.open()
    assert info.value.result == " ".join(result.split()) if result != "NO DIAL TONE" else "NO DIALTONE"
    assert emu.dials == 1 and t.info["dial_attempts"] == 1 and t.info["dial_waits"] == []
    assert emu.hangup_requests() >= 1  # hung up on the error path too
    assert t.line.port is None


@pytest.mark.parametrize("result", ["DELAYED", "BLACKLISTED", "BLACKLIST FULL"])
def test_regulatory_results_stop_at_once(emulators, events, result) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, [result, "CONNECT 9600"])
    t = modem(url, "&retries=5")
    with pytest.raises(DialRefused) as info:
        t.open()
    assert info.value.result == result and emu.dials == 1
    assert emu.hangup_requests() >= 1


def test_no_answer_retries_are_bounded_by_count(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["NO ANSWER"])
    t = modem(url, "&retries=3", sleep=lambda s: None)
    with pytest.raises(DialFailed) as info:
        t.open()
    assert info.value.result == "NO ANSWER"
    assert emu.dials == 4 and t.info["dial_results"] == ["NO ANSWER"] * 4 and len(t.info["dial_waits"]) == 3


def test_no_answer_retries_are_bounded_by_total_time(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["NO ANSWER"])
    t = modem(url, "&retries=50&retry_wait=0.2&retry_for=0.5")
    started = time.monotonic()
    with pytest.raises(DialFailed):
        t.open()
    # waits 0.2 then 0.4: the third dial would start after 0.6 s > 0.5 s, so it is never made
    assert emu.dials == 2 and t.info["dial_waits"] == [0.2]
    assert time.monotonic() - started < 2.0


def test_no_carrier_while_dialing_is_retried(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["NO CARRIER", "CONNECT 2400"])
    t = modem(url)
    t.open()
    t.close()
    assert emu.dials == 2 and t.info["connect_rate"] == 2400


def test_default_retry_budget_is_modest() -> None:
    t = ModemTransport(parse_target("modem:///dev/ttyS0?number=5551234"))
    assert t.retries == 2 and t.retry_for == 300.0 and t.retry_wait == 10.0


# -- result forms -----------------------------------------------------------------------------------------------------
def test_numeric_result_codes(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["BUSY", "CONNECT 9600"], numeric=True)
    t = modem(url)
    t.open()
    t.close()
    assert t.info["dial_results"] == ["7", "12"] and t.info["connect_rate"] == 9600 and emu.dials == 2


def test_intermediate_lines_and_ring_are_recorded_or_ignored(emulators, events) -> None:  # type: ignore[no-untyped-def]
    script = [["RING", "CARRIER 28800", "PROTOCOL: LAP-M", "COMPRESSION: V.42BIS", "CONNECT 115200"]]
    emu, url = fake(emulators, events, script)
    t = modem(url)
    t.open()
    t.close()
    assert t.info["carrier"] == "28800" and t.info["protocol"] == "LAP-M" and t.info["compression"] == "V.42BIS"
    assert t.info["connect_rate"] == 115200 and emu.dials == 1


def test_dial_modifiers_and_pulse_pass_through(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["CONNECT 9600"])
    t = ModemTransport(parse_target(f"modem:///dev/fake?number=9W,555@1234!&dial=pulse&port={url}&{FAST}"))
    t.open()
    t.close()
    assert events.events("modem-dial")[0]["number"] == "9W,555@1234!"
    assert events.events("modem-dial")[0]["method"] == "pulse"
    assert "ATDP9W,555@1234!" in [e["command"] for e in events.events("modem-at")]


# -- init fallbacks ---------------------------------------------------------------------------------------------------
def test_init_error_falls_back_to_factory_then_minimal(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["CONNECT 9600"], reject=["X4"])
    t = modem(url)
    t.open()
    t.close()
    sent = [e["command"] for e in events.events("modem-at")]
    assert t.info["init"] == "minimal"
    assert sent[:6] == ["AT", "ATZ", "ATE0 V1 Q0 X4 &C1 &D2 S0=0 S7=60", "AT&F", "ATE0 V1 Q0 X4 &C1 &D2 S0=0 S7=60",
                        "ATE0V1Q0"]  # fmt: skip


def test_reset_error_falls_back_to_at_and_f(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["CONNECT 9600"], reject=["Z"])
    t = modem(url)
    t.open()
    t.close()
    assert t.info["init"] == "full"


def test_modem_rejecting_everything_is_a_config_fault(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["CONNECT 9600"], reject=["E"])
    t = modem(url)
    with pytest.raises(ModemConfigError) as info:
        t.open()
    assert info.value.result == "ERROR" and emu.dials == 0 and emu.hangup_requests() >= 1


def test_silent_modem_is_reported_not_hung_on(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["CONNECT 9600"], echo=False)
    emu.quiet = True  # Q1 stored: no result codes, no echo
    t = modem(url, "&command_timeout=0.2")
    with pytest.raises(ModemConfigError) as info:
        t.open()
    assert info.value.result == "NO RESPONSE"


def test_dial_timeout_without_result_is_retried_then_reported(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["SILENT"])
    t = modem(url, "&retries=1&dial_timeout=0.3")
    with pytest.raises(DialFailed) as info:
        t.open()
    assert info.value.result == "TIMEOUT" and emu.dials == 2


# -- hang-up on every exit path ---------------------------------------------------------------------------------------
def test_keyboard_interrupt_while_waiting_to_redial_hangs_up(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["BUSY", "CONNECT 9600"])

    def interrupt(seconds: float) -> None:
        if seconds > 0.015:  # the redial wait (0.01 s) — not the DTR hold (0.02 s) of the hang-up itself
            return
        raise KeyboardInterrupt

    t = modem(url, sleep=interrupt)
    with pytest.raises(KeyboardInterrupt):
        t.open()
    assert emu.dials == 1 and emu.hangup_requests() >= 1 and t.line.port is None


def test_keyboard_interrupt_during_session_close_hangs_up(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["CONNECT 9600"], device=Blob(10))
    t = modem(url)
    with pytest.raises(KeyboardInterrupt), t:
        read_all(t, 10)
        raise KeyboardInterrupt
    assert events.count("modem-hangup", how="dtr") == 1


def test_pty_modem_hangs_up_with_escape_and_ath(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu = ModemEmulator(Blob(50), ["CONNECT 9600"], events=events, guard_time=0.05, line_rate_bps=None)
    emulators.append(emu)
    t = pty_modem(emu.start_pty())
    t.open()
    assert read_all(t, 50) == Blob(50).data
    t.close()
    assert t.info["hangup"] == ["escape"]  # a pty has no DTR: +++ with guard times, then ATH0
    assert events.count("modem-escape") == 1 and events.count("modem-hangup", how="ath") == 1


def test_pty_modem_error_path_still_sends_ath(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu = ModemEmulator(Blob(0), ["NO DIALTONE"], events=events, guard_time=0.05)
    emulators.append(emu)
    t = pty_modem(emu.start_pty())
    with pytest.raises(LineFault):
        t.open()
    assert t.info["hangup"] == ["ath"] and emu.hangup_requests() == 1


# -- carrier loss in the middle of output -----------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["fakemodem-dcd", "fakemodem-dcd-ignored", "pty-probe", "pty-close"])
def test_carrier_drop_mid_output_delivers_everything_before_it(emulators, events, where) -> None:  # type: ignore[no-untyped-def]
    dev = Blob(20000)
    mode = "close" if where == "pty-close" else "command"
    emu = ModemEmulator(dev, ["CONNECT 9600"], events=events, guard_time=0.05, line_rate_bps=None,
                        drop_after_bytes=12345, drop_mode=mode)  # fmt: skip
    emulators.append(emu)
    if where.startswith("fakemodem"):
        t = modem(emu.register(), "&carrier=ignore" if where.endswith("ignored") else "")
    else:
        t = pty_modem(emu.start_pty())
    t.open()
    got, exc = read_until_lost(t)
    assert "carrier" in str(exc) or "end of" in str(exc) or "no data" in str(exc) or "Input/output" in str(exc)
    assert hashlib.sha256(got[:12345]).hexdigest() == hashlib.sha256(dev.data[:12345]).hexdigest()
    assert got[12345:] in (b"\r\nNO CARRIER\r\n", b"")  # the modem's own report, kept in the raw stream
    if where != "pty-close":
        assert got[12345:] == b"\r\nNO CARRIER\r\n"
    assert not t.alive()
    with pytest.raises(ConnectionLost):
        t.read(0.1)
    t.close()
    assert events.count("modem-carrier-drop", after_bytes=12345) == 1
    if where != "pty-close":  # the port still works after a drop: close() still hangs up, to be sure
        assert emu.hangup_requests() >= 1
    if where == "fakemodem-dcd-ignored":
        assert "answers AT" in str(exc)  # DCD not trusted (?carrier=ignore): confirmed by the AT probe


def test_carrier_drop_after_seconds(emulators, events) -> None:  # type: ignore[no-untyped-def]
    emu, url = fake(emulators, events, ["CONNECT 9600"], device=Blob(5), drop_after_seconds=0.3)
    t = modem(url)
    t.open()
    started = time.monotonic()
    got, _ = read_until_lost(t)
    assert got == Blob(5).data + b"\r\nNO CARRIER\r\n" and time.monotonic() - started >= 0.2
    t.close()


@pytest.mark.parametrize("via", ["pty", "fakemodem"])
def test_no_carrier_text_from_the_device_is_not_a_drop(emulators, events, via) -> None:  # type: ignore[no-untyped-def]
    """A device printing NO CARRIER, then pausing: a pty probes with AT (no OK), DCD just stays up; no byte lost."""
    text = b"log line\r\nNO CARRIER\r\n"
    dev = Blob(4000, pause_at=0, pause=0.6)
    dev.data = text + dev.data[len(text) :]
    dev.pause_at = len(text)
    emu = ModemEmulator(dev, ["CONNECT 9600"], events=events, guard_time=0.05, line_rate_bps=None)
    emulators.append(emu)
    t = pty_modem(emu.start_pty()) if via == "pty" else modem(emu.register())
    t.open()
    ats_before = events.count("modem-at")
    got = read_all(t, 4000, timeout=5)
    t.close()
    assert got == dev.data
    assert events.count("modem-carrier-drop") == 0
    if via == "fakemodem":
        assert events.count("modem-at") == ats_before + 1  # only the AT after the hang-up's DTR drop: no probe


def test_usage_errors() -> None:
    with pytest.raises(UsageError):
        ModemTransport(parse_target("modem:///dev/ttyS0"))
    with pytest.raises(UsageError):
        ModemTransport(parse_target("modem:///dev/ttyS0?number=555&dial=rotary"))
    with pytest.raises(UsageError):
        ModemTransport(parse_target("modem:///dev/ttyS0?number=555&profile=nokia"))
    with pytest.raises(UsageError):
        ModemTransport(parse_target("modem:///dev/ttyS0?number=555;rm"))
    assert parse_duration("10m") == 600 and parse_duration("500ms") == 0.5 and parse_duration("2") == 2


# -- the emulator itself, driven by hand over a plain serial line ------------------------------------------------------
def _until(t, pattern: bytes, timeout: float = 5.0) -> bytes:  # type: ignore[no-untyped-def]
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while pattern not in buf and time.monotonic() < deadline:
        buf += t.read(0.2)
    assert pattern in buf, bytes(buf)
    return bytes(buf)


def test_emulator_escape_then_ato_resumes_the_call(emulators, events) -> None:  # type: ignore[no-untyped-def]
    from collector.transports.serial import SerialTransport

    class Echo:
        def serve(self, chan) -> None:  # type: ignore[no-untyped-def]
            while data := chan.recv(64):
                chan.sendall(b"<" + data + b">")

    emu = ModemEmulator(Echo(), ["CONNECT 9600"], events=events, guard_time=0.1, line_rate_bps=None, echo=False)
    emulators.append(emu)
    with SerialTransport(parse_target(f"serial://{emu.start_pty()}")) as t:
        t.write(b"ATDT123\r")
        _until(t, b"\r\nCONNECT 9600\r\n")
        t.write(b"x")
        _until(t, b"<x>")
        time.sleep(0.15)  # S12 guard time of silence before +++ (the protocol requires real silence)
        t.write(b"+++")
        _until(t, b"\r\nOK\r\n")  # online-command state; the pluses never reached the device
        assert emu.state == "online-command" and events.count("modem-escape") == 1
        t.write(b"ATO\r")
        _until(t, b"\r\nCONNECT 9600\r\n")
        t.write(b"y+z")
        assert b"<y+z>" in _until(t, b"<y+z>")  # a '+' inside data is data
        t.write(b"ATH0\r")  # online: goes to the device as data, not to the modem
        _until(t, b"<ATH0\r>")
        assert emu.state == "online"


def test_emulator_verbose_numeric_and_s_registers(emulators, events) -> None:  # type: ignore[no-untyped-def]
    from collector.transports.serial import SerialTransport

    emu = ModemEmulator(Blob(0), ["BUSY"], events=events, echo=False)
    emulators.append(emu)
    with SerialTransport(parse_target(f"serial://{emu.start_pty()}")) as t:
        t.write(b"ATS7=45\r")
        _until(t, b"\r\nOK\r\n")
        t.write(b"ATS7?\r")
        _until(t, b"\r\n045\r\n")
        t.write(b"ATV0\r")
        _until(t, b"0\r")
        t.write(b"ATDT5\r")
        _until(t, b"7\r")
        t.write(b"ATV1&Q5\r")
        _until(t, b"\r\nERROR\r\n")
    assert [e["command"] for e in events.events("modem-at")][:3] == ["ATS7=45", "ATS7?", "ATV0"]


def test_modem_left_online_by_a_crashed_run_is_recovered(emulators, events) -> None:  # type: ignore[no-untyped-def]
    """A previous run died without hanging up (pty: no DTR): AT reaches the device, so +++ and ATH0 recover it."""
    emu = ModemEmulator(Blob(10), ["CONNECT 9600"], events=events, guard_time=0.05, line_rate_bps=None)
    emulators.append(emu)
    path = emu.start_pty()
    first = pty_modem(path)
    first.open()
    assert read_all(first, 10) == Blob(10).data
    first.line.close()  # crash: no hang-up
    assert emu.state == "online"
    second = pty_modem(path)
    second.open()
    try:
        assert emu.dials == 2 and events.count("modem-escape") == 1 and events.count("modem-hangup", how="ath") == 1
        assert read_all(second, 10) == Blob(10).data
    finally:
        second.close()
