"""Playbooks are read by libyaml with positions (yaml_nodes.py) when that gives exactly what ruamel's round-trip
reader gives: the same data and the same line and column for every key and list item; anything else falls back."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from collector.playbook.tree import Converter, collect_locations
from collector.playbook.yaml_nodes import load_with_locations

REPO = Path(__file__).resolve().parents[2]


def ruamel_view(text: str) -> tuple[Any, dict[Any, tuple[int, int]]]:
    data = YAML(typ="rt").load(text)
    locations: dict[Any, tuple[int, int]] = {(): (1, 1)}
    collect_locations(data, (), locations)
    return Converter({}, locations, "x").convert(data), locations


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def assert_agrees(text: str) -> bool:
    """True when the fast reader answered (and agreed with ruamel); False when it handed the text to ruamel."""
    fast = load_with_locations(text)
    if fast is None:
        return False
    data, locations = fast
    expected, expected_locations = ruamel_view(text)
    assert same(data, expected), (text, data, expected)
    assert locations == expected_locations, text
    return True


def agrees_or_both_refuse(text: str) -> None:
    """ruamel refuses it (e.g. a duplicate key after normalisation): the fast reader must hand it over too."""
    try:
        ruamel_view(text)
    except Exception:
        assert load_with_locations(text) is None
        return
    assert_agrees(text)


def test_every_bundled_playbook_is_read_fast_and_the_same() -> None:
    files = sorted((REPO / "playbooks").rglob("*.yaml"))
    assert len(files) > 30
    for path in files:
        assert assert_agrees(path.read_text()), path


SCALARS = st.one_of(
    st.sampled_from(["on", "off", "yes", "no", "true", "False", "null", "~", "", "1:30", "0755", "0x1F", "0o17",
                     "1e3", ".5", "-.inf", ".NaN", "12", "+3", "1_000", "a b", "show ip int br | i up",
                     "dir flash:", "2026-12-06", "12:30:00", "{{ iface }}", "'quoted'", "x # not a comment"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.integers(-10**12, 10**12), st.floats(allow_nan=False, width=32), st.booleans(), st.none(),
)
KEYS = st.one_of(st.sampled_from(["command", "mode", "name", "steps", "vars", "timeout", "parse", "on", "1", "y"]),
                 st.text(alphabet="abcdefgh_", min_size=1, max_size=6))
TREES = st.recursive(SCALARS, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                     st.dictionaries(KEYS, kids, max_size=4)), max_leaves=20)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(TREES, st.sampled_from([None, False, True]), st.integers(1, 4))
def test_generated_documents_read_the_same(tree: Any, flow: bool | None, indent: int) -> None:
    """Generated documents in block, flow and mixed styles with tricky scalars: the fast reader either agrees with
    ruamel on data and positions or hands the document over."""
    try:
        text = yaml.safe_dump({"name": "x", "steps": tree}, default_flow_style=flow, indent=indent + 1,
                              allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return
    agrees_or_both_refuse(text)


@given(st.lists(st.tuples(KEYS, SCALARS.filter(lambda v: isinstance(v, str))), min_size=1, max_size=6))
def test_plain_scalars_typed_in_by_hand_read_the_same(pairs: list[tuple[str, str]]) -> None:
    """A hand-written file: plain (unquoted) scalars, as people type them."""
    lines = ["name: x", "steps:"]
    for key, value in pairs:
        if not value or value != value.strip() or any(c in value for c in "\n\r\t:#{}[],&*!|>'\"%@`"):
            value = repr(value).replace("\\", "\\\\") if value else "''"
        lines.append(f"  - {key}: {value}")
    text = "\n".join(lines) + "\n"
    agrees_or_both_refuse(text)


@pytest.mark.parametrize("text", [
    "name: x\nname: y\n",  # a duplicate key: ruamel's error to report
    "a: &x [1]\nb: *x\n",  # anchors and aliases
    "base: &b {mode: exec}\nsteps:\n  - <<: *b\n    command: x\n",  # a merge key
    "when: 2026-12-06\n",  # ruamel reads a date
    "at: 2026-12-06T10:00:00Z\n",
    "x: !!binary aGVsbG8=\n",
    "x: !custom 3\n",
    "? [a, b]\n: c\n",  # a complex key
    "a: [1\n",  # a syntax error: ruamel's message
    "--- a\n--- b\n",  # two documents
    "1.5: x\n",
    "%YAML 1.1\n---\na: on\n",  # a directive: YAML 1.1 reads `on` as true
    "a: !!str 12\n",  # an explicit tag: ruamel keeps it as a tagged scalar
    "steps:\n  - {command: !!str 5}\n",
])
def test_what_only_the_round_trip_reader_does_is_handed_to_it(text: str) -> None:
    assert load_with_locations(text) is None


def test_an_empty_document_is_none_at_line_one() -> None:
    assert load_with_locations("# nothing\n") == (None, {(): (1, 1)})


def test_a_large_playbook_is_read_fast(tmp_path: Path) -> None:
    """1,000 steps through the loader: the libyaml path is taken (ruamel's pure-Python parse is ~10x slower)."""
    from collector.playbook.loader import load_playbook

    path = tmp_path / "many.yaml"
    path.write_text("name: many\nplatform: linux\nsteps:\n" +
                    "".join(f"  - command: echo {i}\n    mode: interactive\n" for i in range(1000)))
    loaded = load_playbook(path)
    assert len(loaded.model.steps) == 1000
    assert loaded.line_of("steps", 999, "mode") == 2003 and loaded.locations[("steps", 999)] == (2002, 5)
    assert load_with_locations(path.read_text()) is not None


@given(st.lists(st.tuples(KEYS, st.sampled_from(["!!str", "!!int", "!!float", "!!bool", "!!null", "!custom", "!",
                                                  "!!binary", "!!timestamp", ""]),
                          st.sampled_from(["12", "on", "x", "'7'", "1.5", "2026-12-06", "~", "[1, 2]", "aGk="])),
                min_size=1, max_size=5),
       st.sampled_from(["", "%YAML 1.1\n---\n", "%YAML 1.2\n---\n", "%TAG ! tag:example.com,2000:\n---\n", "---\n"]))
def test_tags_and_directives_read_the_same_or_go_to_ruamel(lines: list[tuple[str, str, str]], head: str) -> None:
    text = head + "".join(f"k{i}{key}: {tag} {value}\n" for i, (key, tag, value) in enumerate(lines))
    agrees_or_both_refuse(text)
