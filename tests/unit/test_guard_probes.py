"""The guard probe corpus (tests/corpus/guard-probes.yaml): every probe refused or allowed as listed, per platform."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from collector.platforms import load_platform
from collector.playbook import check_command

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "guard-probes.yaml"


def load_probes() -> list[tuple[str, str, str]]:
    """(platform, expected 'allow'|'refuse', command) for every probe of the corpus."""
    data = YAML(typ="safe", pure=True).load(CORPUS.read_text(encoding="utf-8"))
    return [
        (platform, expect, str(command))
        for platform, groups in data.items()
        for expect in ("refuse", "allow")
        for command in groups.get(expect, [])
    ]


PROBES = load_probes()


@pytest.mark.parametrize(("platform", "expect", "command"), PROBES, ids=[f"{p}-{e}-{c!r}" for p, e, c in PROBES])
def test_probe(platform: str, expect: str, command: str) -> None:
    verdict = check_command(command, load_platform(platform))
    assert verdict.allowed is (expect == "allow"), verdict
    assert verdict.reason and "\n" not in verdict.reason and verdict.rule


def probe_figures() -> dict[str, tuple[int, int]]:
    """platform -> (probes tried, probes refused by the guard)."""
    tried: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for platform, _, command in PROBES:
        tried[platform] += 1
        refused[platform] += not check_command(command, load_platform(platform)).allowed
    return {p: (tried[p], refused[p]) for p in tried}


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
