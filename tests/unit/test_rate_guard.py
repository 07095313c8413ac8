"""Rate guard (trips only after a sustained excess) and pre-check thresholds."""

from __future__ import annotations

from collector.playbook.schema import Precheck
from collector.runner.guards import RateGuard, evaluate_precheck


def drive(g: RateGuard, rate: float, start: float, seconds: float, step: float = 0.01) -> float | None:
    """Feed `rate` bytes/s in small reads; return the first tripped rate."""
    t = start
    while t < start + seconds:
        g.feed(int(rate * step), t)
        got = g.check(t)
        if got is not None:
            return got
        t += step
    return None


def test_trips_after_sustained_excess() -> None:
    g = RateGuard(10_000, 2.0, start=0.0)
    assert drive(g, 5_000, 0.0, 5.0) is None  # below the limit: never
    tripped = drive(g, 50_000, 5.0, 5.0)
    assert tripped is not None and 45_000 <= tripped <= 55_000


def test_trip_time_is_about_for_seconds() -> None:
    g = RateGuard(10_000, 1.0, start=0.0)
    t = 0.0
    while g.check(t) is None:
        g.feed(500, t)  # 50 kB/s
        t += 0.01
    assert 1.0 <= t <= 1.3


def test_a_dip_resets_the_streak() -> None:
    g = RateGuard(10_000, 2.0, start=0.0)
    assert drive(g, 50_000, 0.0, 1.5) is None
    assert drive(g, 0, 1.5, 0.5) is None  # quiet for a moment
    assert drive(g, 50_000, 2.0, 1.5) is None  # the streak starts over
    assert drive(g, 50_000, 3.5, 1.0) is not None


def test_a_long_quiet_gap_is_not_an_excess() -> None:
    g = RateGuard(1_000, 0.5, start=0.0)
    g.feed(100, 0.0)
    assert g.check(3600.0) is None
    g.feed(10, 3600.5)
    assert g.check(3601.5) is None


def test_precheck_threshold() -> None:
    spec = Precheck.model_validate({"command": "show processes cpu",
                                    "threshold": {"regex": r"five seconds: (\d+)%", "max": 60}})
    ok = evaluate_precheck(spec, "CPU utilization for five seconds: 12%/0%; one minute: 9%")
    assert ok.ok and ok.value == 12
    bad = evaluate_precheck(spec, "CPU utilization for five seconds: 93%/1%; one minute: 90%")
    assert not bad.ok and bad.value == 93 and "above" in bad.reason
    missing = evaluate_precheck(spec, "% Invalid input detected")
    assert not missing.ok and "not found" in missing.reason


def test_precheck_fail_if_match() -> None:
    spec = Precheck.model_validate({"command": "show logging", "fail_if_match": "%SYS-2-MALLOCFAIL"})
    assert evaluate_precheck(spec, "all quiet\n").ok
    verdict = evaluate_precheck(spec, "x\n%SYS-2-MALLOCFAIL: Memory allocation failed\n")
    assert not verdict.ok and "MALLOCFAIL" in verdict.reason
