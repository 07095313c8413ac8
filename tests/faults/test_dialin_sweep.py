"""Random line schedules for dial-in recovery: carrier drops every N seconds or every N bytes, both strategies.

Every trial must complete with the device's exact bytes and fetch no finished piece twice. A bounded sample runs by
default; the full sweep is marked slow.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.faults.dialin_rig import DialinLine, events, expected, journal, linux_host, router, run, sha, step

BPS = 230_400
SAMPLE = 1
FULL = 12


def one_trial(rng: random.Random, tmp: Path) -> None:
    staged = rng.random() < 0.4
    by_bytes = rng.random() < 0.5
    seconds = rng.uniform(0.9, 1.8)
    cut = {"drop_after_bytes": rng.randint(14_000, 30_000)} if by_bytes else {"drop_after_seconds": seconds}
    size = rng.randint(60_000, 140_000)
    if staged:
        device, command, platform = linux_host(), f"cat /collector/blob {size}", "linux"
    else:
        device, command, platform = router(size), "show tech-support", "cisco_ios"
    with DialinLine(device, BPS, **cut) as line:  # type: ignore[arg-type]
        outcome = run([step(1, command, may_change=staged)], line.url(), tmp, platform=platform,
                      allow_changes=staged)
    context = f"staged={staged} cut={cut} size={size}"
    assert outcome.status == "ok", (context, outcome.error)
    (rec,) = outcome.steps
    assert sha((outcome.run_dir / rec.file).read_bytes()) == rec.sha256 == expected(device, command), context
    assert rec.plan is not None and rec.plan["strategy"] == ("staged" if staged else "sections"), context
    if not staged:
        done = [e["piece"] for e in events(journal(outcome), "piece-completed")]
        assert sorted(done) == list(range(len(rec.plan["pieces"]))), context  # each section exactly once
    assert rec.assembly is not None and rec.assembly["calls"] == rec.assembly["drops"] + 1


def _sweep(tmp: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    for trial in range(count):
        one_trial(rng, tmp / f"t{trial}")


def test_random_line_schedules_sample(tmp_path: Path) -> None:
    _sweep(tmp_path, SAMPLE, 18)


@pytest.mark.slow
def test_random_line_schedules_full(tmp_path: Path) -> None:
    _sweep(tmp_path, FULL, 1818)
