"""Reads one numeric field from parsed records and compares it with bounds: pre-checks and triggers use it.

Field names match in any case; a dotted name walks nested structures (TTP, Genie); `where` keeps only records
whose fields match the given regexes. Values that are not numbers ("12%", "1,024" are) are left out and counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"^\s*([-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*%?\s*$")


@dataclass
class FieldReading:
    """The numbers found for a field (one per record that has it), and what was looked at."""

    name: str
    values: list[float] = field(default_factory=list)
    records: int = 0  # records looked at (after `where`)
    not_numbers: int = 0
    fields: list[str] = field(default_factory=list)  # the field names the records have (for "not found")


def _get(record: Any, path: list[str]) -> Any:
    node = record
    for part in path:
        if not isinstance(node, Mapping):
            return None
        lower = {str(k).lower(): k for k in node}
        key = lower.get(part.lower())
        if key is None:
            return None
        node = node[key]
    return node


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = _NUMBER.match(value)
        if m:
            return float(m.group(1).replace(",", ""))
    return None


def _matches(record: Any, where: Mapping[str, str]) -> bool:
    for name, pattern in where.items():
        value = _get(record, name.split("."))
        if value is None or re.search(pattern, str(value)) is None:
            return False
    return True


def read_field(records: Iterable[Any], name: str, where: Mapping[str, str] | None = None) -> FieldReading:
    path = name.split(".")
    out = FieldReading(name)
    for record in records:
        if isinstance(record, Mapping) and not out.fields:
            out.fields = sorted(str(k).lower() for k in record)
        if where and not _matches(record, where):
            continue
        out.records += 1
        raw = _get(record, path)
        values = raw if isinstance(raw, list) else [raw]
        for value in values:
            if value is None:
                continue
            number = _number(value)
            if number is None:
                out.not_numbers += 1
            else:
                out.values.append(number)
    return out


@dataclass
class Verdict:
    """What a numeric check read from an output, and whether it is over its limit."""

    over: bool  # a value is above max or below min
    found: bool  # at least one number was read
    value: float | None
    reason: str


def judge(reading: FieldReading, maximum: float | None, minimum: float | None) -> Verdict:
    """Over the threshold when any value is above `maximum` or below `minimum`; `value` is the worst one."""
    if not reading.values:
        if reading.records == 0:
            why = "no parsed record" + (" matched `where`" if reading.fields else "")
        elif reading.not_numbers:
            why = f"field {reading.name!r} is not a number"
        else:
            why = f"no field {reading.name!r} (fields: {', '.join(reading.fields[:20]) or 'none'})"
        return Verdict(False, False, None, why)
    high, low = max(reading.values), min(reading.values)
    if maximum is not None and high > maximum:
        return Verdict(True, True, high, f"{reading.name} = {high:g} is above {maximum:g}")
    if minimum is not None and low < minimum:
        return Verdict(True, True, low, f"{reading.name} = {low:g} is below {minimum:g}")
    worst = high if maximum is not None else low
    bounds = " and ".join(b for b in (f"<= {maximum:g}" if maximum is not None else "",
                                      f">= {minimum:g}" if minimum is not None else "") if b)
    return Verdict(False, True, worst, f"{reading.name} = {worst:g} is within {bounds}")


__all__ = ["FieldReading", "Verdict", "judge", "read_field"]
