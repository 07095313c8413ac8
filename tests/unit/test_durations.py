"""Durations ("2h30m", "500ms") and sizes ("500MB", "64KiB") as written in playbooks."""

from __future__ import annotations

import pytest

from collector.units import format_duration, format_size, parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("120s", 120.0),
        ("2h30m", 9000.0),
        ("1h", 3600.0),
        ("500ms", 0.5),
        ("15m", 900.0),
        ("1d", 86400.0),
        ("1.5m", 90.0),
        ("1h 30m", 5400.0),
        ("2H", 7200.0),
        ("90", 90.0),
        (90, 90.0),
        (0.25, 0.25),
        ("0s", 0.0),
        ("1m500ms", 60.5),
    ],
)
def test_parse_duration(text: str | int | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "2x", "h", "1h1h", "-5s", "abc", "1.2.3s", "nan", "inf", True, None, [1]])
def test_bad_duration(text: object) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("500MB", 500_000_000),
        ("1GiB", 1024**3),
        ("64KiB", 65536),
        ("64MiB", 64 * 1024**2),
        ("100K", 102400),
        ("1kb", 1000),
        ("10B", 10),
        ("4096", 4096),
        (4096, 4096),
        ("1.5KiB", 1536),
        ("2 MB", 2_000_000),
    ],
)
def test_parse_size(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "5XB", "-1MB", "1.5B", "ten", False, None])
def test_bad_size(text: object) -> None:
    with pytest.raises(ValueError, match="bad size"):
        parse_size(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.5, "500ms"), (90, "1m30s"), (9000, "2h30m"), (5, "5s"), (86400, "1d")]
)
def test_format_duration_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


def test_format_size() -> None:
    assert format_size(512) == "512B"
    assert format_size(1536) == "1.5KiB"
    assert format_size(64 * 1024**2) == "64MiB"
    assert parse_size(format_size(64 * 1024**2)) == 64 * 1024**2
