"""parsed/ files: one record per line, valid JSON as a whole, published complete, rewritten line by line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.parse.files import RecordWriter, iter_records, parsed_name, rewrite

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(json_values, max_size=12), st.dictionaries(st.text(max_size=8), st.text(), max_size=4))
def test_written_files_are_json_and_stream_back(records: list[Any], meta: dict[str, str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "parsed" / "001-x.json"
        w = RecordWriter(path)
        for r in records:
            w.emit(r)
        assert not path.exists()  # only complete files appear
        w.finish(meta)
        assert not w.tmp.exists()
        doc = json.loads(path.read_text())
        assert doc == {"records": records, "meta": meta}
        assert list(iter_records(path)) == records
        lines = path.read_text().splitlines()
        assert len(lines) == len(records) + 2  # one record per line, whatever the strings hold
        out = io.BytesIO()
        with path.open("rb") as fh:
            rewrite(fh, out, lambda batch: [["x", v] for v in batch], lambda m: {"m": m}, batch=3)
        assert json.loads(out.getvalue()) == {"records": [["x", r] for r in records], "meta": {"m": meta}}


def test_discard_leaves_nothing(tmp_path: Path) -> None:
    w = RecordWriter(tmp_path / "002-y.json")
    w.emit({"a": 1})
    w.discard()
    assert list(tmp_path.iterdir()) == []
    w.emit({"b": 2})
    w.finish({})
    assert json.loads((tmp_path / "002-y.json").read_text())["records"] == [{"b": 2}]


@pytest.mark.parametrize("text", ["", "[]", '{"records": [\n{"a": 1}\n', '{"records": [\n], "meta": {}}\nextra\n',
                                  '{"records": []}\n'])
def test_foreign_layouts_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        rewrite(io.BytesIO(text.encode()), io.BytesIO(), lambda v: v)


def test_parsed_name_follows_the_step_file() -> None:
    assert parsed_name("steps/003-show-ip-int-br.txt") == "003-show-ip-int-br.json"
    assert parsed_name("003-cap-trigger-1-2-show-clock.txt") == "003-cap-trigger-1-2-show-clock.json"
