"""Platform files are parsed once per content: a later process loads the parsed data, a changed, damaged or
foreign cache entry is parsed again, a file over the YAML bounds is refused every time, and a bundled platform's
entry is kept beside it, never where your own files could change its read-only rules."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector import derived_cache
from collector.platforms import PlatformError, load_platform_file, sources

PLATFORM = """name: acme_os
prompt_pattern: '[>#]\\s*$'
error_patterns: ['% Invalid']
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COLLECTOR_HOME", str(tmp_path / "home"))
    sources._read_once.cache_clear()
    yield tmp_path / "home" / "cache"
    sources._read_once.cache_clear()


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    path = tmp_path / "acme_os.yaml"
    path.write_text(PLATFORM)
    return path


def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = sources._parse
    monkeypatch.setattr(sources, "_parse", lambda path, raw: calls.append(path) or real(path, raw))
    return calls


def test_a_second_process_loads_what_the_first_parsed(home: Path, acme: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = acme
    calls = parses(monkeypatch)
    first = sources.read_yaml(path)
    assert len(calls) == 1 and len(list(home.glob("platform-*.json"))) == 1
    sources._read_once.cache_clear()  # as a new process would start
    assert sources.read_yaml(path) == first and len(calls) == 1
    assert load_platform_file(path).name == "acme_os"


def test_changed_damaged_or_foreign_entries_are_parsed_again(home: Path, acme: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = acme
    calls = parses(monkeypatch)
    sources.read_yaml(path)
    entry = next(home.glob("platform-*.json"))
    for damage in ("{not json", json.dumps({"key": {"format": 1}, "value": {"name": "evil"}}), "[]"):
        entry.write_text(damage)
        sources._read_once.cache_clear()
        assert sources.read_yaml(path)["name"] == "acme_os"
    path.write_text(PLATFORM.replace("% Invalid", "% Bad"))
    sources._read_once.cache_clear()
    assert sources.read_yaml(path)["error_patterns"] == ["% Bad"]
    assert len(calls) == 5


def test_a_file_over_the_bounds_is_refused_every_time(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "bomb_os.yaml"
    path.write_text("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)))
    for _ in range(2):
        sources._read_once.cache_clear()
        with pytest.raises(PlatformError):
            sources.read_yaml(path)
    assert not list(home.glob("platform-*.json")) if home.exists() else True


def test_a_bundled_platform_is_cached_beside_it_not_in_the_users_cache(home: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    monkeypatch.setattr(sources, "BUNDLED_CACHE", tmp_path / "bundled-cache")
    data = sources.read_yaml(sources.PLATFORM_DIR / "linux.yaml")
    assert data["name"] == "linux"
    assert list((tmp_path / "bundled-cache").glob("platform-*.json"))
    assert not (home.exists() and list(home.glob("platform-*.json")))


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner)
                    | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3), max_leaves=12))
def test_only_values_json_gives_back_exactly_are_kept(value: object) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kept = derived_cache.store("probe", {"k": 1}, value, folder)
        back = derived_cache.load("probe", {"k": 1}, folder)
        if kept:
            assert back == value and type(back) is type(value)
        else:
            assert back is None
        exact = not _has_tuple_or_int_key(value) and not any(math.isnan(x) for x in _floats(value))
        assert kept == exact


def _has_tuple_or_int_key(value: object) -> bool:
    if isinstance(value, tuple):
        return True
    if isinstance(value, list):
        return any(_has_tuple_or_int_key(v) for v in value)
    if isinstance(value, dict):
        return any(not isinstance(k, str) or _has_tuple_or_int_key(v) for k, v in value.items())
    return False


def _floats(value: object) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _floats(v)]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    return []


def test_an_entry_made_by_another_parser_is_parsed_again(home: Path, acme: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Editing or reinstalling the parsing code changes the key, as a source change does for bytecode."""
    path = acme
    calls = parses(monkeypatch)
    sources.read_yaml(path)
    sources._read_once.cache_clear()
    monkeypatch.setattr(sources, "_parser_stamp", lambda: "another-parser")
    sources.read_yaml(path)
    assert len(calls) == 2


@pytest.mark.parametrize("hostile", ["[" * 200_000 + "]" * 200_000, '{"key": ' * 50_000 + "1" + "}" * 50_000,
                                     "\x00\x1b[2J\ud800", "\ufeff{}"])
def test_a_hostile_entry_is_parsed_again_never_raises(home: Path, acme: Path, hostile: str) -> None:
    sources.read_yaml(acme)
    entry = next(home.glob("platform-*.json"))
    entry.write_text(hostile, encoding="utf-8", errors="surrogatepass")
    sources._read_once.cache_clear()
    assert sources.read_yaml(acme)["name"] == "acme_os"


def test_an_oversized_entry_is_not_read(home: Path, acme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources.read_yaml(acme)
    entry = next(home.glob("platform-*.json"))
    monkeypatch.setattr(derived_cache, "MAX_ENTRY_BYTES", entry.stat().st_size - 1)
    calls = parses(monkeypatch)
    sources._read_once.cache_clear()
    assert sources.read_yaml(acme)["name"] == "acme_os" and len(calls) == 1
