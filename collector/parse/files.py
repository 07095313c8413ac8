"""The run directory's `parsed/` folder: one JSON file per parsed output and `index.json` with every outcome.

A parsed file is JSON with one record per line, so it is written and re-written (bundle cleaning) with flat memory:
line 1 `{"records": [`, then one record per line, then `], "meta": {...}}`. It appears only complete (rename).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ..jsonfmt import listing_json
from ..store.fsutil import atomic_write_bytes
from .outcome import ParseOutcome

PARSED_DIR = "parsed"
INDEX_NAME = "index.json"
INDEX_FORMAT = 1
_OPEN = '{"records": [\n'
_CLOSE = '], "meta": '


def parsed_name(step_file: str) -> str:
    """`steps/003-show-version.txt` -> `003-show-version.json` (the step file's own number and slug)."""
    return PurePosixPath(step_file).name.removesuffix(".txt") + ".json"


def _line(record: Any) -> str:
    return json.dumps(record, ensure_ascii=True, separators=(", ", ": "), default=str)


class RecordWriter:
    """A parse sink writing `path` through a temporary file; `finish(meta)` publishes it, `discard` starts over."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")
        self._fh: IO[str] | None = None
        self._held: Any = None
        self._has = False
        self._created = False  # discard only removes a file this writer made (most outputs never parse)

    def _open(self) -> IO[str]:
        if self._fh is None:
            self._created = True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.tmp.open("w", encoding="ascii")
            self._fh.write(_OPEN)
        return self._fh

    def emit(self, record: Any) -> None:
        fh = self._open()
        if self._has:
            fh.write(_line(self._held) + ",\n")
        self._held, self._has = record, True

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._held, self._has = None, False
        if self._created:
            with contextlib.suppress(FileNotFoundError):
                self.tmp.unlink()

    def finish(self, meta: dict[str, Any]) -> None:
        fh = self._open()
        if self._has:
            fh.write(_line(self._held) + "\n")
        fh.write(_CLOSE + _line(meta) + "}\n")
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        self._fh = None
        os.replace(self.tmp, self.path)


def iter_records(path: Path) -> Iterator[Any]:
    """Every record of a parsed file, one at a time (ValueError when the file is not in this layout)."""
    with path.open(encoding="utf-8") as fh:
        for kind, value in _walk(fh):
            if kind == "record":
                yield value


def _walk(lines: Any) -> Iterator[tuple[str, Any]]:
    first = True
    closed = False
    for raw in lines:
        line = raw if isinstance(raw, str) else raw.decode("utf-8")
        if first:
            if line != _OPEN:
                raise ValueError("not a collector parsed file (first line)")
            first = False
            continue
        if closed:
            raise ValueError("text after the closing line")
        if line.startswith(_CLOSE):
            closed = True
            yield "meta", json.loads("{" + line[3:])["meta"]
            continue
        body = line.rstrip("\n")
        yield "record", json.loads(body[:-1] if body.endswith(",") else body)
    if first or not closed:
        raise ValueError("not a complete collector parsed file")


def rewrite(src: IO[bytes], dst: IO[bytes], clean: Callable[[list[Any]], list[Any]],
            clean_meta: Callable[[Any], Any] | None = None, batch: int = 512) -> None:
    """Copy a parsed file with `clean` applied to the records, `batch` at a time (`clean_meta` to the meta block).

    ValueError when `src` is not in the parsed-file layout (what was written to `dst` is then incomplete).
    """
    pending: list[Any] = []

    def flush(last: bool) -> None:
        cleaned = clean(pending) if pending else []
        for i, record in enumerate(cleaned):
            end = "\n" if last and i == len(cleaned) - 1 else ",\n"
            dst.write((_line(record) + end).encode())
        pending.clear()

    dst.write(_OPEN.encode())
    for kind, value in _walk(src):
        if kind == "record":
            pending.append(value)
            if len(pending) > batch:  # one kept back: the last record is written without a comma
                held = pending.pop()
                flush(False)
                pending.append(held)
        else:
            flush(True)
            dst.write((_CLOSE + _line((clean_meta or (lambda m: clean([m])[0]))(value)) + "}\n").encode())


def read_index(run_dir: Path) -> dict[str, Any] | None:
    """parsed/index.json of a run, or None when the run was never parsed (or the file is unreadable)."""
    try:
        data = json.loads((run_dir / PARSED_DIR / INDEX_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("steps"), list) else None


def outcomes_by_source(run_dir: Path) -> dict[str, ParseOutcome]:
    """The recorded outcome of each parsed step, by its step file (`steps/NNN-<slug>.txt`)."""
    index = read_index(run_dir) or {"steps": []}
    out: dict[str, ParseOutcome] = {}
    for item in index["steps"]:
        if isinstance(item, dict) and isinstance(item.get("source"), str):
            out[item["source"]] = ParseOutcome.from_json(item)
    return out


def write_index(run_dir: Path, index: dict[str, Any]) -> None:
    path = run_dir / PARSED_DIR / INDEX_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    # derived data (`collector parse` makes it again): renamed atomically, not fsync'd
    atomic_write_bytes(path, listing_json({"format": INDEX_FORMAT, **index}).encode(), fsync=False)


__all__ = ["INDEX_NAME", "PARSED_DIR", "RecordWriter", "iter_records", "outcomes_by_source", "parsed_name",
           "read_index", "rewrite", "write_index"]
