"""The run directory: run.json, journal.jsonl, raw/ chunks, steps/ outputs, captures/.

Creates a new run directory or reopens one for resume and bundling; knows files, not devices.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..jsonfmt import listing_json
from ..secrets import Masker
from .chunks import DEFAULT_CHUNK_SIZE, RawStream
from .fsutil import atomic_write_bytes, no_space, utc_stamp
from .journal import Journal, read_events
from .records import RunState, fold

RUN_FORMAT = 1
RESERVE_BYTES = 256 << 10  # freed when the disk fills, so the journal and run.json can still be closed


def slugify(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-._")
    return (s[:limit].rstrip("-._") or "x").lower()


@dataclass
class RunDir:
    """One run's directory: where each of its files lives, and how they are opened."""

    path: Path

    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.jsonl"

    @property
    def raw_dir(self) -> Path:
        return self.path / "raw"

    @functools.cached_property
    def steps_dir(self) -> Path:  # asked for once per step: built once (pathlib joins cost ~10 us each)
        return self.path / "steps"

    @property
    def captures_dir(self) -> Path:
        return self.path / "captures"

    @classmethod
    def create(cls, runs_dir: Path, target_slug: str, playbook_name: str) -> RunDir:
        base = f"{utc_stamp()}-{slugify(target_slug)}-{slugify(playbook_name)}"
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
            for n in range(100):
                path = runs_dir / (base if n == 0 else f"{base}-{n}")
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover
                raise StoreError(f"cannot find a free run directory name under {runs_dir}")
            (path / "steps").mkdir()
            (path / "raw").mkdir()
        except OSError as exc:
            raise StoreError(f"cannot create a run directory under {runs_dir}: {exc.strerror}") from exc
        rd = cls(path)
        rd.ensure_reserve()
        return rd

    @property
    def reserve(self) -> Path:
        return self.path / ".reserve"

    def ensure_reserve(self) -> None:
        """Set aside a little disk space for the records that close a run when the disk fills up."""
        if self.reserve.exists():
            return
        try:
            fd = os.open(self.reserve, os.O_WRONLY | os.O_CREAT, 0o600)
            try:  # allocated blocks, no data written: cheap for a fleet of hundreds of runs
                os.posix_fallocate(fd, 0, RESERVE_BYTES)
            finally:
                os.close(fd)
        except OSError:
            with contextlib.suppress(OSError):
                self.reserve.unlink()  # a disk already too full for the reserve: the run will say so

    def release_reserve(self) -> bool:
        """Free the reserve (the disk is full); True when there was one to free."""
        try:
            self.reserve.unlink()
        except OSError:
            return False
        return True

    @classmethod
    def open(cls, path: Path) -> RunDir:
        rd = cls(Path(path))
        if rd.run_json.exists() and not rd.journal_path.exists():
            raise StoreError(
                f"{path}: the run stopped before it recorded anything (run.json, no journal.jsonl); nothing to resume",
                hint="start it again with `collector run` (the same options; run.json shows them)",
            )
        if not rd.run_json.exists() or not rd.journal_path.exists():
            raise StoreError(
                f"{path} is not a collector run directory (no run.json / journal.jsonl)",
                hint="pass the directory `collector run` printed, e.g. runs/20261127T...",
            )
        return rd

    def write_run_info(self, info: dict[str, Any], masker: Masker | None = None) -> None:
        info = {"format": RUN_FORMAT, **info}
        self._write_info(info, masker)

    def _write_info(self, info: dict[str, Any], masker: Masker | None, fsync: bool = True) -> None:
        """run.json never holds a known secret (e.g. a --password-command that prints its own literal)."""
        data = listing_json(masker.json(info) if masker else info, default=str)  # C encoder: 0.05 ms, not 1 ms
        atomic_write_bytes(self.run_json, data.encode(), fsync=fsync)

    def read_run_info(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.run_json.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read {self.run_json}: {exc}") from exc
        return data

    def update_run_info(self, masker: Masker | None = None, **fields: Any) -> None:
        info = self.read_run_info()
        info.update(fields)
        try:  # updates are informational (the journal is the truth): renamed atomically, not fsync'd
            self._write_info(info, masker, fsync=False)
        except StoreError as exc:
            if not (no_space(exc) and self.release_reserve()):
                raise
            self._write_info(info, masker, fsync=False)

    def journal(self, masker: Masker | None = None) -> Journal:
        return Journal(self.journal_path, masker, on_full=self.release_reserve)

    def raw_stream(self, chunk_size: int = DEFAULT_CHUNK_SIZE, masker: Masker | None = None) -> RawStream:
        return RawStream(self.raw_dir, chunk_size=chunk_size, masker=masker)

    def state(self) -> RunState:
        return fold(read_events(self.journal_path))

    def step_path(self, filename: str) -> Path:
        return self.steps_dir / filename
