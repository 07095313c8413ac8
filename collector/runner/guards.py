"""Device safety for captures: the pre-check threshold before debug starts and the stream rate guard.

Pure logic: the engine feeds byte counts and command output; these classes decide and explain. A check may read a
parsed field instead of a regex (`{parsed: show processes cpu, field: cpu_usage_5_sec, max: 60}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..parse.engine import ListSink, Output, parse_output
from ..parse.fields import Verdict, judge, read_field
from ..playbook.schema import ParsedField, Precheck, describe_field


@dataclass
class PrecheckResult:
    """A precheck's verdict: go or not, why, and the value it read."""

    ok: bool
    reason: str
    value: float | None = None


def evaluate_parsed(check: ParsedField, output: str, platform: str) -> Verdict:
    """Parse `output` of the check's command on `platform` and judge its field (not found = `found` False)."""
    assert check.parsed is not None and check.field is not None
    sink = ListSink()
    outcome = parse_output(platform, check.parsed, Output(text=output), sink, check.parser, max_bytes=None)
    if not outcome.ok:
        return Verdict(False, False, None, f"`{check.parsed}` did not parse: {outcome.reason}")
    return judge(read_field(sink.records, check.field, check.where), check.max, check.min)


def evaluate_precheck(spec: Precheck, output: str, platform: str = "") -> PrecheckResult:
    """Judge a pre-check command's output: fail_if_match (a regex found = fail), threshold (number > max = fail)
    or a parsed field out of bounds.

    A value that cannot be found fails too: debug is not started on a device we could not check.
    """
    if spec.parsed is not None:
        verdict = evaluate_parsed(spec, output, platform)
        if not verdict.found:
            return PrecheckResult(False, f"pre-check value not found ({describe_field(spec)}): {verdict.reason}")
        if verdict.over:
            return PrecheckResult(False, f"pre-check {verdict.reason}", verdict.value)
        return PrecheckResult(True, f"pre-check {verdict.reason}", verdict.value)
    if spec.fail_if_match is not None:
        m = re.search(spec.fail_if_match, output, re.MULTILINE)
        if m is not None:
            return PrecheckResult(False, f"pre-check output matches {spec.fail_if_match!r}: {m.group(0).strip()!r}")
        return PrecheckResult(True, f"no match for {spec.fail_if_match!r}")
    th = spec.threshold
    assert th is not None  # the schema requires exactly one of fail_if_match and threshold
    m = re.search(th.regex, output, re.MULTILINE)
    if m is None:
        return PrecheckResult(False, f"pre-check value not found (regex {th.regex!r} did not match the output)")
    try:
        value = float(m.group(1).replace(",", ""))
    except (TypeError, ValueError):
        return PrecheckResult(False, f"pre-check value {m.group(1)!r} is not a number")
    if value > float(th.max):
        return PrecheckResult(False, f"pre-check value {value:g} is above the threshold {float(th.max):g}", value)
    return PrecheckResult(True, f"pre-check value {value:g} is within the threshold {float(th.max):g}", value)


class RateGuard:
    """Trips when the stream stays above `max_bytes_per_s` for `for_s` seconds.

    Bytes are counted in short buckets (at most 1 s, at least 50 ms, a fifth of `for_s`); a bucket at or below
    the limit (a quiet moment) resets the streak. `feed(n, now)` counts bytes; `check(now)` returns the measured
    rate (bytes/s over the streak) once the streak is long enough, else None.
    """

    def __init__(self, max_bytes_per_s: float, for_s: float, start: float) -> None:
        self.limit = float(max_bytes_per_s)
        self.for_s = float(for_s)
        self.bucket = min(1.0, max(0.05, self.for_s / 5.0))
        self._bucket_start = start
        self._bucket_bytes = 0
        self._streak_start: float | None = None
        self._streak_bytes = 0
        self.peak = 0.0  # highest bucket rate seen (bytes/s)

    def _advance(self, now: float) -> None:
        while now - self._bucket_start >= self.bucket:
            rate = self._bucket_bytes / self.bucket
            self.peak = max(self.peak, rate)
            if rate > self.limit:
                if self._streak_start is None:
                    self._streak_start = self._bucket_start
                    self._streak_bytes = 0
                self._streak_bytes += self._bucket_bytes
            else:
                self._streak_start = None
                self._streak_bytes = 0
            self._bucket_start += self.bucket
            self._bucket_bytes = 0
            if now - self._bucket_start >= 10 * self.bucket:  # a long quiet gap: skip the empty buckets
                self._bucket_start = now - ((now - self._bucket_start) % self.bucket)
                self._streak_start = None
                self._streak_bytes = 0

    def feed(self, n: int, now: float) -> None:
        self._advance(now)
        self._bucket_bytes += n

    def check(self, now: float) -> float | None:
        self._advance(now)
        if self._streak_start is None:
            return None
        span = self._bucket_start - self._streak_start
        if span + 1e-9 < self.for_s:
            return None
        return self._streak_bytes / span if span > 0 else None


__all__ = ["PrecheckResult", "RateGuard", "evaluate_precheck"]
