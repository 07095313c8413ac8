"""Fuzzed playbooks (random structures, keys, values, markup, control bytes, alias bombs): never an exception."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.playbook_fuzz import fuzz_overrides, fuzz_playbook, run_one


@given(rng=st.randoms(use_true_random=False))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzzed_playbooks_end_cleanly(tmp_path: Path, rng: random.Random) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(fuzz_playbook(rng))
    outcome = run_one(path, fuzz_overrides(rng))
    assert not outcome.startswith("exception"), (outcome, path.read_bytes()[:400])


@pytest.mark.slow
def test_six_thousand_fuzzed_playbooks_end_cleanly(tmp_path: Path) -> None:
    """The issue's figure: 6,028 fuzzed playbooks, every one ends as ok or a clean CollectorError."""
    rng = random.Random(3)
    outcomes: dict[str, int] = {}
    for i in range(6028):
        path = tmp_path / f"{i}.yaml"
        path.write_bytes(fuzz_playbook(rng))
        outcome = run_one(path, fuzz_overrides(rng))
        key = "exception" if outcome.startswith("exception") else outcome
        outcomes[key] = outcomes.get(key, 0) + 1
        assert key != "exception", (outcome, path.read_bytes()[:400])
        path.unlink()
    assert sum(outcomes.values()) == 6028
