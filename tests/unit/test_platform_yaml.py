"""Platform files are read with libyaml for speed, with YAML 1.2 core scalars: every bundled file reads exactly
as ruamel (the playbook reader) reads it, and YAML 1.1's traps stay strings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from collector.platforms.sources import PLATFORM_DIR, core12_loader


def both(text: str) -> tuple[object, object]:
    return yaml.load(text, Loader=core12_loader()), YAML(typ="safe", pure=True).load(text)  # noqa: S506


def test_every_bundled_platform_reads_as_ruamel_reads_it() -> None:
    files = sorted(PLATFORM_DIR.glob("*.yaml"))
    assert len(files) >= 18
    for path in files:
        fast, slow = both(path.read_text())
        assert fast == slow, path.name


def test_yaml_1_1_traps_stay_strings() -> None:
    fast, _ = both("a: on\nb: no\nc: 1:30\nd: Yes\ne: 0755\nf: 0x1f\ng: ~\nh: 2026-12-06\n")
    # a date stays text too (nothing in a platform is a date)
    assert fast == {"a": "on", "b": "no", "c": "1:30", "d": "Yes", "e": 755, "f": 31, "g": None, "h": "2026-12-06"}


WORDS = st.sampled_from(["on", "off", "yes", "no", "y", "n", "true", "False", "null", "~", "1:30", "0755", "0x1F",
                         "0o17", "1e3", ".5", "-.inf", ".NaN", "12", "+3", "1_000", "a b", "#x"])


@given(st.lists(WORDS, min_size=1, max_size=8))
def test_generated_scalars_read_the_same(words: list[str]) -> None:
    text = "".join(f"k{i}: {w}\n" for i, w in enumerate(words))
    fast, slow = both(text)
    if isinstance(slow, dict) and any(isinstance(v, float) and v != v for v in slow.values()):
        return  # NaN is never equal to itself
    assert fast == slow


def test_no_platform_description_is_cut_by_a_yaml_comment() -> None:
    """`FGT # ` in a plain scalar starts a YAML comment: a description must come out whole (balanced quotes and
    brackets), as `collector platforms` prints it."""
    from collector.platforms import list_platforms, load_platform

    for name in list_platforms():
        text = load_platform(name).description
        assert text.count("`") % 2 == 0 and text.count("(") == text.count(")"), (name, text)


@pytest.mark.parametrize("text", [
    "name: x\n" + "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 12)}]\n" for i in range(1, 9)),
    "name: x\nd: " + "[" * 500 + "]" * 500 + "\n",
    "name: x\nn: " + "9" * 5000 + "\n",
    "name: [unclosed\n",
    "name: !!python/object/apply:os.system ['true']\n",
    "\x1b]0;title\x07: x\n  bad: [\n",
])
def test_a_hostile_platform_file_of_your_own_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 text: str) -> None:
    """Your own platform files pass the playbooks' bounds: alias bombs, deep nesting, huge numbers, broken YAML
    and unsafe tags end as a PlatformError naming the file, at once."""
    import time

    from collector.platforms.sources import PlatformError, read_yaml

    path = tmp_path / "acme_os.yaml"
    path.write_text(text)
    started = time.monotonic()
    with pytest.raises(PlatformError) as err:
        read_yaml(path)
    assert time.monotonic() - started < 5 and str(path) in err.value.message
