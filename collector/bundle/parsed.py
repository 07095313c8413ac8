"""Parsed outputs in a bundle: cleaned with the same engine and map as the text, listed per step in the manifest.

Every string (keys too: Genie keys can be addresses) goes through the bundle's cleaner, so a secret or a name gets
the same placeholder or pseudonym as in the step file; a field named like a secret (password, community, key...)
is replaced whatever its value looks like, and its value is learned so the text loses it too. A value equal to a
secret a rule found in the text (4 characters or more) gets that secret's placeholder even where it stands alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..parse.files import iter_records, outcomes_by_source, parsed_name, rewrite
from ..parse.outcome import ParseOutcome
from ..parse.run import PARSED_KINDS
from ..store.records import StepRecord
from .checksum import HashWriter
from .cleaner import Cleaner

RULE_PARSED = "parsed-secret-field"
MIN_EXACT = 4  # shorter values ("1", "up") would collide with ordinary fields
_SECRET_WORDS = {"password", "passwd", "pwd", "secret", "secrets", "community", "psk", "passphrase", "preshared",
                 "token", "keystring", "credential", "credentials"}
_PLACEHOLDER = re.compile(r"^<redacted-secret-\d+>$")
NOT_PARSED = "not parsed (run `collector parse RUN_DIR` before bundling)"


@functools.lru_cache(maxsize=4096)
def secret_field(name: str) -> bool:
    """True for field names that hold secrets: password, enable_secret, snmp_community, pre_shared_key, key..."""
    words = [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()) if w]
    if any(w in _SECRET_WORDS for w in words):
        return True
    return bool(words) and words[-1] in ("key", "keys")  # authentication_key, pre_shared_key (not key_id)


class ParsedCleaner:
    """Cleans parsed records with the bundle's cleaner (see the module docstring), many strings per call."""

    def __init__(self, cleaner: Cleaner, include_source_hash: bool) -> None:
        self.cleaner = cleaner
        self.include_source_hash = include_source_hash
        self.by_field = bool(cleaner.redactor.profile.rules)  # --redact none keeps what the text keeps

    def _special(self, key: str | None, value: str) -> str | None:
        """The replacement of a secret-named field or of a value a rule already found, else None."""
        if _PLACEHOLDER.match(value):
            return value
        raw = value.encode("utf-8", "surrogateescape")
        redactor = self.cleaner.redactor
        if self.by_field and key is not None and secret_field(key):
            redactor.counts[RULE_PARSED] += 1
            return redactor.placeholder(raw).decode()
        known = redactor.placeholder_for(raw) if len(raw) >= MIN_EXACT else None
        if known is not None:
            redactor.counts[RULE_PARSED] += 1
            return known.decode()
        return None

    def _collect(self, value: Any, key: str | None, slots: list[tuple[bool, str]]) -> None:
        """Every key and string in order: (True, text to clean) or (False, its replacement already).

        Records are what json.loads gives (dict, list, str, numbers): concrete types, checked cheaply.
        """
        if type(value) is str:
            if value:
                special = self._special(key, value)
                slots.append((True, value) if special is None else (False, special))
        elif type(value) is dict:
            for k, v in value.items():
                slots.append((True, str(k)))
                self._collect(v, str(k), slots)
        elif type(value) is list:
            for v in value:
                self._collect(v, key, slots)

    def _rebuild(self, value: Any, cleaned: Iterator[str]) -> Any:
        if type(value) is str:
            return next(cleaned) if value else value
        if type(value) is dict:
            return {next(cleaned): self._rebuild(v, cleaned) for v in value.values()}
        if type(value) is list:
            return [self._rebuild(v, cleaned) for v in value]
        return value

    def _clean_all(self, texts: list[str]) -> list[str]:
        """Each distinct string cleaned once, many per cleaner call (the text rules are line-based)."""
        unique = list(dict.fromkeys(texts))
        if unique and not any("\n" in t or "\r" in t for t in unique):
            joined = self.cleaner.text("\n".join(unique)).split("\n")
            cleaned = joined if len(joined) == len(unique) else [self.cleaner.text(t) for t in unique]
        else:
            cleaned = [self.cleaner.text(t) for t in unique]
        table = dict(zip(unique, cleaned, strict=True))
        return [table[t] for t in texts]

    def records(self, batch: list[Any]) -> list[Any]:
        slots: list[tuple[bool, str]] = []
        for record in batch:
            self._collect(record, None, slots)
        cleaned = iter(self._clean_all([text for clean, text in slots if clean]))
        values = iter([next(cleaned) if clean else text for clean, text in slots])
        return [self._rebuild(record, values) for record in batch]

    def record(self, record: Any) -> Any:
        return self.records([record])[0]

    def meta(self, meta: Any) -> Any:
        if isinstance(meta, dict) and not self.include_source_hash:
            meta = {k: v for k, v in meta.items() if k != "source_sha256"}
        return self.record(meta)


def learn_secrets(path: Path, cleaner: Cleaner) -> None:
    """Pass 1: values of secret-named fields become known secrets, so the text loses them too."""
    if not cleaner.redactor.profile.rules:
        return
    try:
        for record in iter_records(path):
            _learn(record, cleaner)
    except (OSError, ValueError):
        return  # not in the parsed layout: staged as text, cleaned like any other file


def _learn(value: Any, cleaner: Cleaner, key: str | None = None) -> None:
    if type(value) is dict:
        for k, v in value.items():
            _learn(v, cleaner, str(k))
    elif type(value) is list:
        for v in value:
            _learn(v, cleaner, key)
    elif type(value) is str and key is not None and value and secret_field(key):
        cleaner.redactor.learn_value(value.encode("utf-8", "surrogateescape"))


def stage(src: Path, dest: Path, parsed: ParsedCleaner) -> HashWriter:
    """Write the cleaned copy of a parsed file; one not in the parsed layout is cleaned as text instead."""
    with src.open("rb") as fh, dest.open("wb") as out:
        hw = HashWriter(out)
        try:
            rewrite(fh, hw, parsed.records, parsed.meta)  # type: ignore[arg-type]
            return hw
        except (ValueError, UnicodeDecodeError):
            pass
    with src.open("rb") as fh, dest.open("wb") as out:
        hw = HashWriter(out)
        anon = parsed.cleaner.anon
        parsed.cleaner.redactor.stream(fh, hw, post=anon.rewrite if anon.active else None)  # type: ignore[arg-type]
    return hw


def parsed_member(run_prefix: str, step_file: str, rename: Mapping[str, str]) -> str:
    """The bundle member of a step's parsed file: it follows the step file's (possibly cleaned) name."""
    base = Path(step_file).name
    return f"{run_prefix}/parsed/{parsed_name(rename.get(base, base))}"


def entries(run_dir: Path, records: list[StepRecord], run_prefix: str, staged: Mapping[str, Any],
            rename: Mapping[str, str], clean: Any) -> dict[tuple[str, int, str | None], dict[str, Any]]:
    """The manifest's `parsed` entry of every step, keyed like the steps (kind, number, file)."""
    outcomes = outcomes_by_source(run_dir)
    out: dict[tuple[str, int, str | None], dict[str, Any]] = {}
    for rec in records:
        if rec.kind not in PARSED_KINDS:
            continue
        outcome = outcomes.get(rec.file or "")
        out[(rec.kind, rec.step, rec.file)] = _entry(rec, outcome, run_prefix, staged, rename, clean)
    return out


def _entry(rec: StepRecord, outcome: ParseOutcome | None, run_prefix: str, staged: Mapping[str, Any],
           rename: Mapping[str, str], clean: Any) -> dict[str, Any]:
    if not rec.file:
        return {"file": None, "parser": None, "reason": "no complete output"}
    if outcome is None:
        return {"file": None, "parser": None, "reason": NOT_PARSED}
    member = parsed_member(run_prefix, rec.file, rename) if outcome.file else None
    if member is not None and member not in staged:
        return {"file": None, "parser": outcome.parser, "reason": "the parsed file is missing from the run"}
    return {"file": member, "parser": outcome.parser, "template": outcome.template, "records": outcome.records,
            "resolved": clean(outcome.resolved) if outcome.resolved else None,
            "reason": clean(outcome.reason) if outcome.reason else None, "seconds": outcome.seconds,
            "bytes": staged[member]["size"] if member else None,
            "sha256": staged[member]["sha256"] if member else None}


__all__ = ["NOT_PARSED", "ParsedCleaner", "RULE_PARSED", "entries", "learn_secrets", "parsed_member",
           "secret_field", "stage"]
