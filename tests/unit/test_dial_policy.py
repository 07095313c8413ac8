"""The dialer policy table, row by row: verbose and numeric forms, actions, exceptions, CONNECT parsing."""

from __future__ import annotations

import pytest

from collector.errors import DialError
from collector.transports.dial_policy import (
    TABLE,
    Action,
    DialFailed,
    DialRefused,
    LineFault,
    ModemConfigError,
    error_for,
    is_retryable,
    parse_line,
    rule_for,
)

# (verbose, numeric or None, action, exception class or None)
ROWS = [
    ("OK", 0, Action.OK, None),
    ("CONNECT", 1, Action.CONNECTED, None),
    ("RING", 2, Action.IGNORE, None),
    ("NO CARRIER", 3, Action.RETRY, DialFailed),
    ("ERROR", 4, Action.CONFIG_FAULT, ModemConfigError),
    ("NO DIALTONE", 6, Action.LOCAL_FAULT, LineFault),
    ("NO DIAL TONE", 6, Action.LOCAL_FAULT, LineFault),
    ("BUSY", 7, Action.RETRY, DialFailed),
    ("NO ANSWER", 8, Action.RETRY, DialFailed),
    ("DELAYED", None, Action.STOP, DialRefused),
    ("BLACKLISTED", None, Action.STOP, DialRefused),
    ("BLACKLIST FULL", None, Action.STOP, DialRefused),
    ("NO LINE", None, Action.LOCAL_FAULT, LineFault),
    ("LINE IN USE", None, Action.LOCAL_FAULT, LineFault),
    ("RINGING", None, Action.IGNORE, None),
]


@pytest.mark.parametrize(("text", "numeric", "action", "error"), ROWS)
def test_row_verbose_and_numeric(text: str, numeric: int | None, action: Action, error: type | None) -> None:
    parsed = parse_line(text)
    assert parsed.kind == "final"
    assert parsed.action == action
    assert parsed.rule is not None and parsed.rule.error is error
    if numeric is not None:
        num = parse_line(str(numeric))
        assert num.kind == "final" and num.rule is parsed.rule
    if error is not None:
        exc = error_for(parsed, "5551234")
        assert isinstance(exc, error) and isinstance(exc, DialError)
        assert exc.result == parsed.rule.code
        assert exc.exit_code == 14
        assert is_retryable(exc) == (action == Action.RETRY)


def test_every_table_row_is_covered_by_the_tests() -> None:
    assert {r.code for r in TABLE} - {"TIMEOUT"} == {rule_for(text).code for text, *_ in ROWS}


def test_only_busy_no_answer_no_carrier_and_timeout_retry() -> None:
    assert sorted(r.code for r in TABLE if r.action == Action.RETRY) == ["BUSY", "NO ANSWER", "NO CARRIER", "TIMEOUT"]


@pytest.mark.parametrize(
    ("line", "rate", "protocol"),
    [
        ("CONNECT", None, None),
        ("CONNECT 9600", 9600, None),
        ("CONNECT 9600/ARQ/V42BIS", 9600, "ARQ/V42BIS"),
        ("CONNECT 33600 EC", 33600, "EC"),
        ("CONNECT 33600/V42bis", 33600, "V42bis"),
        ("connect 2400", 2400, None),
        ("CONNECT 115200/ARQ", 115200, "ARQ"),
    ],
)
def test_connect_rate_and_suffix(line: str, rate: int | None, protocol: str | None) -> None:
    parsed = parse_line(line)
    assert parsed.action == Action.CONNECTED
    assert (parsed.rate, parsed.protocol) == (rate, protocol)


@pytest.mark.parametrize(("code", "rate"), [("5", 1200), ("10", 2400), ("12", 9600), ("16", 19200), ("1", None)])
def test_numeric_connect_codes(code: str, rate: int | None) -> None:
    parsed = parse_line(code)
    assert parsed.action == Action.CONNECTED and parsed.rate == rate


def test_numeric_connect_table_can_be_overridden_per_profile() -> None:
    assert parse_line("13", {13: 9600}).rate == 9600  # USR numbering
    assert parse_line("13").rate == 7200  # Rockwell numbering (default)


@pytest.mark.parametrize(
    ("line", "info"),
    [
        ("CARRIER 28800", {"carrier": "28800"}),
        ("CARRIER 28800/V34", {"carrier": "28800/V34"}),
        ("PROTOCOL: LAP-M", {"protocol": "LAP-M"}),
        ("COMPRESSION: V.42BIS", {"compression": "V.42BIS"}),
        ("+MCR: V34", {"mcr": "V34"}),
        ("+ER: LAPM", {"er": "LAPM"}),
        ("+DR: V42B", {"dr": "V42B"}),
    ],
)
def test_intermediate_lines(line: str, info: dict[str, str]) -> None:
    parsed = parse_line(line)
    assert parsed.kind == "intermediate" and parsed.info == info and parsed.rule is None


@pytest.mark.parametrize("line", ["ATDT5551234", "ATZ", "at&f", "A/"])
def test_echoed_commands_are_recognised(line: str) -> None:
    assert parse_line(line).kind == "echo"


@pytest.mark.parametrize("line", ["", "   ", "Hello", "99", "collector sim modem 1.0"])
def test_unknown_lines(line: str) -> None:
    assert parse_line(line).kind == "unknown"


def test_spacing_and_case_are_normalised() -> None:
    assert parse_line("  no   dial tone ").rule is rule_for("NO DIALTONE")
    assert parse_line("busy").action == Action.RETRY
