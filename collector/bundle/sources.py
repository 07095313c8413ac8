"""The files of a run that go into a bundle, under which member names, and how each is read.

Step file names come from commands: a name that cleaning would change gets a clean one, and journal references
follow it; the raw transcript is a member only on request (its bytes repeat the step files').
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..parse.files import PARSED_DIR, parsed_name
from ..store.ahead import is_ahead
from ..store.records import RunState
from ..store.rundir import RunDir, slugify
from .manifest import clean_obj
from .rawreader import RawReader


@dataclass
class Source:
    rel: str  # member path relative to the top folder
    path: Path | None = None  # a plain file
    raw_dir: Path | None = None  # the run's raw chunks
    journal: bool = False  # JSON lines: strings cleaned field by field, file references renamed
    parsed: bool = False  # a parsed/ file: records cleaned value by value (bundle/parsed.py)
    playbook: bool = False  # the playbook file (checked against its recorded hash)


def run_sources(rd: RunDir, prefix: str, rename: dict[str, str] | None = None, *, include_raw: bool = False,
                playbook: Path | None = None) -> list[Source]:
    """Every file of a run to bundle; `rename` maps step file names to their sanitized names."""
    rename = rename or {}
    sources: list[Source] = []
    for sub in ("steps", "captures"):
        base = rd.path / sub
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file() and not p.is_symlink() and not is_ahead(p.name):
                    rel = p.relative_to(base).as_posix()
                    sources.append(Source(f"{prefix}/{sub}/{rename.get(rel, rel)}", path=p))
    parsed = rd.path / PARSED_DIR
    for p in sorted(parsed.glob("[0-9]*.json")) if parsed.is_dir() else []:
        if p.is_file() and not p.is_symlink():
            step = p.name.removesuffix(".json") + ".txt"  # named after its step file: renamed the same way
            sources.append(Source(f"{prefix}/{PARSED_DIR}/{parsed_name(rename.get(step, step))}", path=p,
                                  parsed=True))
    if rd.journal_path.exists():
        sources.append(Source(f"{prefix}/journal.jsonl", path=rd.journal_path, journal=True))
    if playbook is not None:
        sources.append(Source(f"{prefix}/playbook.yaml", path=playbook, playbook=True))
    if include_raw:
        sources.append(Source(f"{prefix}/raw/transcript.raw", raw_dir=rd.raw_dir))
    return sources


def renames(rd: RunDir, state: RunState, clean: Callable[[str], str], name: Callable[[str], str]) -> dict[str, str]:
    """Step files are named after their command; a command holding a secret or a real name gets a clean name.

    `name` masks what is known to be secret in a file name; `clean` is the text cleaner (redaction, pseudonyms).
    Also covers names the runner lower-cased (a secret would no longer match its case-sensitive rule there).
    """
    out: dict[str, str] = {}
    for rec in state.ordered():
        cleaned = clean(rec.command)
        files = [rec.file] + [a.partial_file for a in rec.attempts]
        for f in files:
            if not f:
                continue
            base = PurePosixPath(f).name
            if cleaned == rec.command and clean(name(base)) == base:
                continue
            stem, sep, rest = base.partition(".txt")
            number = re.match(r"\d+", stem)
            new = f"{number.group(0) if number else rec.step:03}-{slugify(cleaned)}.txt{rest}" if sep else \
                slugify(clean(name(base)), 120)
            out[base] = new
    for p in sorted(rd.steps_dir.glob("*")) if rd.steps_dir.is_dir() else []:
        if p.name not in out and clean(name(p.name)) != p.name:
            out[p.name] = slugify(clean(name(p.name)), 120)
    return out


def journal_line(line: bytes, clean: Callable[[str], str], rename: dict[str, str]) -> bytes:
    try:
        rec = json.loads(line)
    except ValueError:
        return clean(line.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    if not isinstance(rec, dict):
        return clean(line.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    for key in ("file", "partial_file"):
        value = rec.get(key)
        if isinstance(value, str):
            base = PurePosixPath(value)
            if base.name in rename:
                rec[key] = str(base.with_name(rename[base.name]))
    return (json.dumps(clean_obj(rec, clean)) + "\n").encode()


def open_source(src: Source) -> Any:
    if src.raw_dir is not None:
        return RawReader(src.raw_dir)
    assert src.path is not None
    return src.path.open("rb")
