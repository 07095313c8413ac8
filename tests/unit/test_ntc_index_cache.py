"""The ntc-templates index is read once per index file: later runs use the cached rows, an edited index or a
damaged cache file is read again, and lookups give the same templates either way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from collector.parse import ntc_index
from collector.parse.ntc_index import _package_dir, find_template


def fresh() -> None:
    ntc_index._rows.cache_clear()
    ntc_index._platform_rows.cache_clear()
    ntc_index._lookup.cache_clear()


@pytest.fixture
def index_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    src = _package_dir()
    d = tmp_path / "templates"
    d.mkdir()
    shutil.copy(src / "index", d / "index")
    monkeypatch.setenv("NTC_TEMPLATES_DIR", str(d))
    monkeypatch.setenv("COLLECTOR_HOME", str(tmp_path / "home"))
    fresh()
    yield d
    fresh()


def test_cached_rows_are_the_rows_read_from_the_index(index_dir: Path, tmp_path: Path) -> None:
    first = ntc_index._rows(index_dir)
    caches = list((tmp_path / "home" / "cache").glob("ntc-index-*.json"))
    assert len(caches) == 1 and len(first) > 500
    fresh()
    calls = []
    original = ntc_index._read_index
    ntc_index._read_index = lambda d: calls.append(d) or original(d)  # type: ignore[assignment,func-returns-value]
    try:
        assert ntc_index._rows(index_dir) == first and calls == []  # from the cache
        assert find_template("cisco_ios", "show ip interface brief").templates == (
            "cisco_ios_show_ip_interface_brief.textfsm",)
        caches[0].write_text("{not json")  # damaged: read the index again
        fresh()
        assert ntc_index._rows(index_dir) == first and len(calls) == 1
        with (index_dir / "index").open("a") as fh:  # edited: a new key, read again
            fh.write("\n")
        fresh()
        assert ntc_index._rows(index_dir) == first and len(calls) == 2
    finally:
        ntc_index._read_index = original  # type: ignore[assignment]
