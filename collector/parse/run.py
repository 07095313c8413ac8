"""Parses every completed step of a run directory into `parsed/`, after the run (or long after, for old runs).

Never raises for a step: each one ends parsed or with its reason in `parsed/index.json`. Only a directory that is
not a run at all is an error (StoreError).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .. import __version__
from ..store.fsutil import utc_now
from ..store.records import RunState, StepRecord
from ..store.rundir import RunDir
from .engine import DEFAULT_MAX_BYTES, Output, parse_output
from .files import PARSED_DIR, RecordWriter, outcomes_by_source, parsed_name, write_index
from .outcome import ParseOutcome

PARSED_KINDS = ("show", "cleanup", "trigger")


@dataclass(frozen=True)
class StepChoice:
    """What a step asks for: its parser (`parse:`) and the size above which it is not parsed."""

    choice: str = "auto"
    max_bytes: int | None = DEFAULT_MAX_BYTES


@dataclass
class ParseReport:
    """What parsing a run's outputs gave: one outcome per step, and the time it took."""

    run_dir: Path
    platform: str
    outcomes: list[ParseOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def parsed(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)


def parse_run(run_dir: Path, *, platform: str | None = None, choices: Mapping[int, StepChoice] | None = None,
              override: StepChoice | None = None, state: RunState | None = None) -> ParseReport:
    """(Re)parse a run: `choices` by step number (the playbook's), else what the last parse recorded, else auto.

    `override` replaces every step's choice (`collector parse --parser/--max-size`). `state`: the run's journal
    as the runner that just wrote it holds it (else it is read from the journal file).
    """
    rd = RunDir.open(run_dir)
    started = time.perf_counter()
    info = rd.read_run_info()
    name = platform or str(info.get("platform") or "")
    report = ParseReport(rd.path, name)
    previous = outcomes_by_source(rd.path)
    kept: set[str] = set()
    files = _step_files(rd)
    for rec in (state or rd.state()).ordered():
        if rec.kind not in PARSED_KINDS or not rec.file:
            continue
        want = override
        if want is None and rec.kind != "trigger":
            want = (choices or {}).get(rec.step)
        if want is None:
            before = previous.get(rec.file)
            want = StepChoice(before.choice, before.max_bytes) if before is not None else StepChoice()
        outcome = _parse_step(rd, rec, name, want, files)
        if outcome.file:
            kept.add(Path(outcome.file).name)
        report.outcomes.append(outcome)
    _remove_stale(rd.path / PARSED_DIR, kept)
    report.seconds = round(time.perf_counter() - started, 6)
    write_index(rd.path, {"parsed_at": utc_now(), "collector_version": __version__, "platform": name,
                          "seconds": report.seconds, "steps": [o.to_json() for o in report.outcomes]})
    return report


def _step_files(rd: RunDir) -> frozenset[str]:
    """Names of the regular files directly in steps/ (listed once: a stat per step costs more than the parse)."""
    try:
        with os.scandir(rd.steps_dir) as entries:
            return frozenset(e.name for e in entries if e.is_file(follow_symlinks=False))
    except OSError:
        return frozenset()


def _step_file(rd: RunDir, file: str, files: frozenset[str]) -> Path | None:
    """The step file a record names, only when it is a regular file directly in steps/ (the journal is data)."""
    rel = PurePosixPath(file)
    if len(rel.parts) != 2 or rel.parts[0] != "steps" or rel.name in ("", ".", "..") or rel.name not in files:
        return None
    return rd.steps_dir / rel.name


def _parse_step(rd: RunDir, rec: StepRecord, platform: str, want: StepChoice, files: frozenset[str]) -> ParseOutcome:
    assert rec.file is not None
    target = rd.path / PARSED_DIR / parsed_name(rec.file)
    source = _step_file(rd, rec.file, files)
    if rec.status != "ok":
        out = ParseOutcome(choice=want.choice, command=rec.command, platform=platform,
                           reason=f"the step ended {rec.status}: its output is not parsed")
    elif source is None:
        out = ParseOutcome(choice=want.choice, command=rec.command, platform=platform,
                           reason=f"{rec.file} is not a step file of this run directory")
    else:
        try:
            writer = RecordWriter(target)
        except OSError as exc:
            return ParseOutcome(choice=want.choice, command=rec.command, platform=platform, source=rec.file,
                                max_bytes=want.max_bytes, reason=f"cannot write {PARSED_DIR}/: {exc.strerror}")
        out = parse_output(platform, rec.command, Output(path=source), writer, want.choice, want.max_bytes)
        try:
            if out.ok:
                writer.finish(_meta(rec, out))
                out.file = f"{PARSED_DIR}/{target.name}"
            else:
                writer.discard()
        except OSError as exc:
            writer.discard()
            out.parser, out.records, out.file = None, None, None
            out.reason = f"cannot write {target.name}: {exc.strerror or exc}"
    out.source, out.max_bytes = rec.file, want.max_bytes
    return out


def _meta(rec: StepRecord, out: ParseOutcome) -> dict[str, Any]:
    return {"format": 1, "step": rec.step, "kind": rec.kind, "name": rec.name, "command": rec.command,
            "resolved": out.resolved, "platform": out.platform, "parser": out.parser, "template": out.template,
            "records": out.records, "source": rec.file, "source_sha256": rec.sha256, "parsed_at": utc_now()}


def _remove_stale(folder: Path, kept: set[str]) -> None:
    """A step that no longer parses must not keep the file of an earlier parse."""
    if not folder.is_dir():
        return
    for p in [*folder.glob("[0-9]*.json"), *folder.glob(".[0-9]*.json.tmp")]:  # .tmp: a parse cut short
        if p.name not in kept:
            with contextlib.suppress(OSError):
                p.unlink()


__all__ = ["PARSED_KINDS", "ParseReport", "StepChoice", "parse_run"]
