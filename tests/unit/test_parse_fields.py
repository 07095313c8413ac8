"""Parsed fields for pre-checks and triggers: lookup in any case, nested paths, `where`, bounds, and why not found."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from collector.parse.fields import judge, read_field

CPU = [{"cpu_usage_5_sec": "87", "process_name": "IP Input", "process_cpu_usage_5_sec": "61.27"},
       {"cpu_usage_5_sec": "87", "process_name": "ARP Input", "process_cpu_usage_5_sec": "9.91"}]


def test_any_case_and_numbers_with_units() -> None:
    reading = read_field(CPU, "CPU_Usage_5_Sec")
    assert reading.values == [87.0, 87.0]
    assert read_field([{"mem": "1,024"}, {"mem": "12%"}], "mem").values == [1024.0, 12.0]


def test_where_selects_records() -> None:
    reading = read_field(CPU, "process_cpu_usage_5_sec", {"process_name": "^ARP"})
    assert reading.values == [9.91] and reading.records == 1


def test_nested_paths() -> None:
    genie = [{"interfaces": {"Gi0/1": {"counters": {"in_crc_errors": 17}}}}]
    assert read_field(genie, "interfaces.Gi0/1.counters.in_crc_errors").values == [17.0]


def test_bounds_and_reasons() -> None:
    assert judge(read_field(CPU, "cpu_usage_5_sec"), 60, None).over
    verdict = judge(read_field(CPU, "cpu_usage_5_sec"), 90, None)
    assert not verdict.over and verdict.found and verdict.reason == "cpu_usage_5_sec = 87 is within <= 90"
    low = judge(read_field([{"free": "5"}], "free"), None, 10)
    assert low.over and low.reason == "free = 5 is below 10"
    missing = judge(read_field(CPU, "cpu_5_sec"), 60, None)
    assert not missing.found and "no field 'cpu_5_sec'" in missing.reason and "cpu_usage_5_sec" in missing.reason
    assert not judge(read_field([{"state": "FULL"}], "state"), 1, None).found
    assert judge(read_field([], "x"), 1, None).reason == "no parsed record"


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=20),
       st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_over_exactly_when_a_value_is_above_max(values: list[float], maximum: float) -> None:
    records = [{"v": repr(v)} for v in values]
    verdict = judge(read_field(records, "v"), maximum, None)
    assert verdict.over == any(float(repr(v)) > maximum for v in values)
    assert verdict.value == max(float(repr(v)) for v in values)
