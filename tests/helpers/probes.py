"""The guard probe corpus (tests/corpus/guard-probes.yaml) as (platform, expected, command) rows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ruamel.yaml import YAML

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "guard-probes.yaml"


def load_probes() -> list[tuple[str, str, str]]:
    """(platform, 'allow' | 'refuse', command) for every probe of the corpus."""
    data = YAML(typ="safe", pure=True).load(CORPUS.read_text(encoding="utf-8"))
    return [
        (platform, expect, str(command))
        for platform, groups in data.items()
        for expect in ("refuse", "allow")
        for command in groups.get(expect, [])
    ]


def probe_figures() -> dict[str, tuple[int, int]]:
    """platform -> (probes tried, probes the guard refused)."""
    from collector.platforms import load_platform
    from collector.playbook import check_command

    tried: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for platform, _, command in load_probes():
        tried[platform] += 1
        refused[platform] += not check_command(command, load_platform(platform)).allowed
    return {p: (tried[p], refused[p]) for p in tried}
