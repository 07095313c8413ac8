"""The guard probe corpus (tests/corpus/guard-probes.yaml): every probe refused or allowed as listed, per platform."""

from __future__ import annotations

import pytest

from collector.platforms import load_platform
from collector.playbook import check_command
from tests.helpers.probes import load_probes, probe_figures

PROBES = load_probes()


@pytest.mark.parametrize(("platform", "expect", "command"), PROBES, ids=[f"{p}-{e}-{c!r}" for p, e, c in PROBES])
def test_probe(platform: str, expect: str, command: str) -> None:
    verdict = check_command(command, load_platform(platform))
    assert verdict.allowed is (expect == "allow"), verdict
    assert verdict.reason and "\n" not in verdict.reason and verdict.rule


def test_corpus_covers_every_platform_and_the_issue_count() -> None:
    figures = probe_figures()
    assert set(figures) >= {"linux", "cisco_ios", "cisco_xe", "cisco_nxos", "arista_eos", "juniper_junos", "frr"}
    assert sum(t for t, _ in figures.values()) >= 300
    linux_refused = [c for p, e, c in PROBES if p == "linux" and e == "refuse"]
    assert len(linux_refused) >= 150


def test_refusals_say_how_to_allow_changes() -> None:
    """A refused playbook's message carries the way to allow it: allow_changes in the playbook and --allow-changes."""
    from collector.errors import GuardRefused

    assert "allow_changes: true" in GuardRefused.hint and "--allow-changes" in GuardRefused.hint
