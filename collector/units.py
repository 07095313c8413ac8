"""Durations ("500ms", "120s", "2h30m", "1d") and sizes ("500MB", "64KiB") as written in playbooks.

Parsing turns them into seconds (float) and bytes (int); `format_duration` / `format_size` go back.
"""

from __future__ import annotations

import math
import re

DURATION_UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.IGNORECASE)
DURATION_PATTERN = r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)\s*)+$|^\s*\d+(\.\d+)?\s*$"
DURATION_HELP = "a number with a unit: 500ms, 30s, 15m, 2h, 2h30m, 1d (a bare number means seconds)"
MAX_DURATION = 366 * 86400.0  # a year: longer values are typos (and overflow date arithmetic)
MAX_SIZE = 2**50  # 1 PiB

SIZE_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "t": 1024**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
SIZE_PATTERN = r"^\s*\d+(\.\d+)?\s*([kKmMgGtT]([iI]?[bB])?|[bB])?\s*$"
SIZE_HELP = "a number with a unit: 500MB (10^6), 64KiB / 1GiB (2^10 / 2^30), 100K (=KiB); a bare number means bytes"


def parse_duration(value: str | int | float) -> float:
    """Seconds from "120s", "2h30m", "1h", "500ms", "1.5m" or a bare number (seconds); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"bad duration {_shown(value)}: expected {DURATION_HELP}")
    if isinstance(value, int | float):
        seconds = _as_float(value, "duration")
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError(f"bad duration {_shown(value)}: empty; expected {DURATION_HELP}")
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_duration_units(text, value)
    else:
        raise ValueError(f"bad duration {_shown(value)}: expected {DURATION_HELP}")
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise ValueError(f"bad duration {_shown(value)}: must be a finite number of seconds >= 0")
    if seconds > MAX_DURATION:
        raise ValueError(f"bad duration {_shown(value)}: longer than 366 days")
    return seconds


def _as_float(value: int | float, what: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"bad {what} {_shown(value)}: the number is too large") from None


def _shown(value: object) -> str:
    """The value for a message, cut short (a 4,000-digit number is not worth repeating)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"{str(value)[:12]}... (a huge number)"
    return text if len(text) <= 60 else text[:57] + "..."


def _parse_duration_units(text: str, original: str) -> float:
    pos = 0
    total = 0.0
    seen: set[str] = set()
    compact = re.sub(r"\s+", "", text)
    while pos < len(compact):
        m = _DURATION_PART.match(compact, pos)
        if not m:
            rest = _shown(compact[pos:])
            raise ValueError(f"bad duration {_shown(original)}: cannot read {rest}; expected {DURATION_HELP}")
        unit = m.group(2).lower()
        if unit in seen:
            raise ValueError(f"bad duration {_shown(original)}: unit {unit!r} given twice")
        seen.add(unit)
        total += float(m.group(1)) * DURATION_UNITS[unit]
        pos = m.end()
    return total


def parse_size(value: str | int | float) -> int:
    """Bytes from "500MB" (decimal), "64KiB"/"1GiB" (binary), "100K" (binary) or a bare number; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"bad size {_shown(value)}: expected {SIZE_HELP}")
    if isinstance(value, int):
        size = _as_float(value, "size")
    elif isinstance(value, float):
        size = value
    elif isinstance(value, str):
        m = _SIZE.match(value)
        if not m:
            raise ValueError(f"bad size {_shown(value)}: expected {SIZE_HELP}")
        unit = m.group(2).lower()
        if unit not in SIZE_UNITS:
            raise ValueError(f"bad size {_shown(value)}: unknown unit {m.group(2)!r}; expected {SIZE_HELP}")
        size = float(m.group(1)) * SIZE_UNITS[unit]
    else:
        raise ValueError(f"bad size {_shown(value)}: expected {SIZE_HELP}")
    if math.isnan(size) or math.isinf(size) or size < 0:
        raise ValueError(f"bad size {_shown(value)}: must be a finite number of bytes >= 0")
    if size > MAX_SIZE:
        raise ValueError(f"bad size {_shown(value)}: larger than 1PiB")
    if size != int(size):
        raise ValueError(f"bad size {_shown(value)}: not a whole number of bytes")
    return int(size)


def format_duration(seconds: float) -> str:
    """Short human form: 0.5 -> "500ms", 90 -> "1m30s", 9000 -> "2h30m"."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    frac = seconds - whole
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            parts.append(f"{whole // size}{unit}")
            whole %= size
    if whole or frac or not parts:
        secs = whole + frac
        parts.append(f"{secs:g}s")
    return "".join(parts)


def format_size(size: int) -> str:
    """Short human form with binary units: 1536 -> "1.5KiB"."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f}{unit}" if unit == "B" or value == int(value) else f"{value:.1f}{unit}"
        value /= 1024
    return f"{size}B"  # pragma: no cover
