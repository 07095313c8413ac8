"""Builds the case bundle: stages cleaned members, writes manifest/README/SHA256SUMS, tars, checksums.

Everything streams in bounded blocks (a 1 GB step costs disk, not RAM). Each step's bytes are carried once: the
raw transcript stays in the run directory unless asked for (`include_raw`), and is checked against its seals.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import BundleError, CollectorError
from ..secrets import Secret
from ..store.fsutil import utc_now, utc_stamp
from ..store.masking import read_masking
from ..store.records import RunState
from ..store.rundir import RunDir, slugify
from .anonymize import Anonymizer
from .checksum import HashWriter, write_sha256_file
from .cleaner import Cleaner
from .fleet import fleet_record, learn_names
from .localpaths import LocalPaths
from .manifest import MANIFEST_FORMAT, MANIFEST_NAME, README_NAME, SUMS_NAME, Staged, run_record, target_parts
from .parsed import ParsedCleaner, learn_secrets
from .parsed import entries as parsed_entries
from .parsed import stage as stage_parsed
from .rawreader import RawReader, check_raw
from .readme import render_readme
from .redact import Redactor
from .runfacts import PlaybookFile, device_hostname, find_playbook
from .sources import Source, journal_line, open_source, renames, run_sources
from .statedir import map_dir_for
from .tarwriter import write_tar

FAILED_BEFORE_START = "failed-before-start"


@dataclass
class BundleResult:
    """What `build_bundle` made; the private map (if any) and the encrypted copy live beside, never inside."""

    path: Path
    sha256_path: Path
    sha256: str
    manifest: dict[str, Any]
    map_path: Path | None
    redaction_counts: dict[str, int]
    encrypted_path: Path | None = None
    encrypted_sha256: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Run:
    rd: RunDir
    info: dict[str, Any]
    hostname: str | None
    playbook: PlaybookFile
    label: str = ""
    state: RunState = field(default_factory=RunState)
    rename: dict[str, str] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)


def _bundle_name(case: str | None, target_slug: str, compression: str, out_dir: Path) -> str:
    case_part = re.sub(r"[^A-Za-z0-9.,_-]+", "-", case).strip("-.") if case else "nocase"
    base = f"collector-{case_part or 'nocase'}-{target_slug}-{utc_stamp()}"
    ext = ".tar.gz" if compression == "gz" else ".tar.xz"
    name = base + ext
    n = 1
    while (out_dir / name).exists():
        name = f"{base}-{n}{ext}"
        n += 1
    return name


def _read_words(words_file: Path | None) -> list[str]:
    if words_file is None:
        return []
    try:
        return words_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BundleError(f"cannot read the words file {words_file}: {exc.strerror}",
                          hint="give a text file with one sensitive word per line") from exc


def _open_runs(run_dirs: list[Path], force: bool, warnings: list[str]) -> list[_Run]:
    """Open each run directory; refuse one that failed before it started, warn about one with nothing in it."""
    runs: list[_Run] = []
    for p in run_dirs:
        rd = RunDir.open(Path(p))
        info = rd.read_run_info()
        if info.get("status") == FAILED_BEFORE_START and not force:
            raise BundleError(f"{rd.path.name} failed before its first step: there is nothing of the device in it",
                              hint="fix the connection and run again, or pass --force to bundle its journal anyway")
        outputs = [f for f in rd.steps_dir.glob("*") if f.is_file() and f.stat().st_size] \
            if rd.steps_dir.is_dir() else []
        if not outputs:
            warnings.append(f"{rd.path.name}: no step output (status {info.get('status') or 'unknown'}): the "
                            "bundle holds only its journal")
        if read_masking(rd.raw_dir) is None:
            warnings.append(f"{rd.path.name}: made before collector masked secrets on write; a password the device "
                            "echoed may be in its step files (run --bundle removes the ones it was given)")
        runs.append(_Run(rd, info, device_hostname(rd.journal_path), find_playbook(info)))
    return runs


def _recorded_case(runs: list[_Run], warnings: list[str]) -> str | None:
    cases = list(dict.fromkeys(str(r.info["case"]) for r in runs if r.info.get("case")))
    if len(cases) > 1:
        warnings.append(f"the runs were recorded for different cases ({', '.join(cases)}); the bundle uses the first")
    return cases[0] if cases else None


def _cleaner(runs: list[_Run], redact: str | None, credentials: list[Secret], anon: Anonymizer) -> Cleaner:
    extra: list[tuple[Path, str]] = []
    for r in runs:
        extra += [(r.rd.path, "<run-dir>"), (r.rd.path.parent, "<runs-dir>")]
        if r.playbook.path is not None:
            extra.append((r.playbook.path.parent, "<playbook-dir>"))
    records = [rec for r in runs if (rec := read_masking(r.rd.raw_dir)) is not None]
    return Cleaner(Redactor(redact or "credentials", extra_secrets=credentials), anon, records, LocalPaths(extra))


def _learn(runs: list[_Run], cleaner: Cleaner, fleet: dict[str, Any] | None = None) -> None:
    """Pass 1: learn secrets and names everywhere, so the first file already hides what a later one reveals."""
    anon = cleaner.anon
    if fleet is not None:
        learn_names(fleet, anon.learn_target)
    for r in runs:
        host, user = target_parts(str(r.info.get("target", "")))
        anon.learn_target(host, user)
        if r.hostname:
            anon.learn_target(r.hostname, None)
    for r in runs:
        for src in run_sources(r.rd, "x", playbook=r.playbook.path):
            if src.parsed and src.path is not None:
                learn_secrets(src.path, cleaner)  # the records themselves derive from the text learned here
                continue
            for learn in (cleaner.redactor.learn, anon.learn) if anon.active else (cleaner.redactor.learn,):
                fh = open_source(src)
                try:
                    learn(fh)
                finally:
                    fh.close()


def _plan(runs: list[_Run], cleaner: Cleaner, include_raw: bool, names: list[str] | None = None) -> None:
    for i, r in enumerate(runs, start=1):
        host, _ = target_parts(str(r.info.get("target", "")))
        slug_src = cleaner.text(host) if host else str((r.info.get("playbook") or {}).get("name") or r.rd.path.name)
        if names is not None and i <= len(names):  # a fleet's runs are named after their inventory device
            slug_src = cleaner.text(names[i - 1])
        r.label = f"{i:02d}-{slugify(slug_src, 32)}"
        r.state = r.rd.state()
        r.rename = renames(r.rd, r.state, cleaner.text, cleaner.name)
        r.sources = run_sources(r.rd, f"runs/{r.label}", r.rename, include_raw=include_raw, playbook=r.playbook.path)


def _run_names(fleet: dict[str, Any], count: int) -> list[str]:
    """Run i's device name, from the fleet section's run_index."""
    names = [""] * count
    for d in fleet.get("devices") or []:
        index = d.get("run_index")
        if isinstance(index, int) and 0 <= index < count:
            names[index] = str(d.get("device", ""))
    return names


def _stage(src: Source, dest: Path, cleaner: Cleaner, rename: dict[str, str],
           parsed: ParsedCleaner) -> tuple[dict[str, Any], Any]:
    """Write one cleaned member; returns its {size, sha256, redactions} and the reader (for the raw report)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    redactor, anon = cleaner.redactor, cleaner.anon
    before = sum(redactor.counts.values())
    if src.parsed and src.path is not None:
        hw = stage_parsed(src.path, dest, parsed)
        fired = sum(redactor.counts.values()) - before
        return {"size": hw.size, "sha256": hw.hash.hexdigest(), "redactions": fired}, None
    # the playbook is small and written by a person: checked window by window for recorded secrets
    fh = io.BytesIO(cleaner.data(src.path.read_bytes())) if src.playbook and src.path else open_source(src)
    try:
        with dest.open("wb") as out:
            hw = HashWriter(out)
            if src.journal:
                for line in fh:
                    hw.write(journal_line(line, cleaner.text, rename))
            else:
                redactor.stream(fh, hw, post=anon.rewrite if anon.active else None)  # type: ignore[arg-type]
    finally:
        fh.close()
    fired = sum(redactor.counts.values()) - before
    return {"size": hw.size, "sha256": hw.hash.hexdigest(), "redactions": fired}, fh


def _stage_runs(runs: list[_Run], staging: Path, cleaner: Cleaner,
                include_source_hash: bool) -> tuple[Staged, list[dict[str, Any]]]:
    staged: Staged = {}
    records: list[dict[str, Any]] = []
    parsed = ParsedCleaner(cleaner, include_source_hash)
    for r in runs:
        raw: dict[str, Any] = {}
        for src in r.sources:
            staged[src.rel], fh = _stage(src, staging / src.rel, cleaner, r.rename, parsed)
            if isinstance(fh, RawReader):
                raw = {"included": True, "file": src.rel, "bytes": staged[src.rel]["size"],
                       "sha256": staged[src.rel]["sha256"], **fh.report()}
        if not raw:
            raw = {"included": False, "file": None, **check_raw(r.rd.raw_dir)}
        info = {**r.info, "_source_dir": r.rd.path.name}
        if cleaner.anon.active:  # run directory names and ids embed the target name
            info["_source_dir"] = info["run_id"] = r.label
        pb = next((s.rel for s in r.sources if s.playbook), None)
        playbook = {"file_name": cleaner.text(r.playbook.name) or None, "file": pb, "note": r.playbook.note}
        outputs = parsed_entries(r.rd.path, r.state.ordered(), f"runs/{r.label}", staged, r.rename, cleaner.text)
        records.append(run_record(r.label, f"runs/{r.label}", info, r.state, staged, raw, cleaner.text,
                                  include_source_hash=include_source_hash, rename=r.rename,
                                  hostname=r.hostname, playbook_file=playbook, parsed=outputs))
        records[-1]["masked_on_write"] = read_masking(r.rd.raw_dir) is not None
    return staged, records


def _metadata(staging: Path, staged: Staged, manifest: dict[str, Any], cleaner: Cleaner) -> list[str]:
    """README.txt, manifest.json and SHA256SUMS into staging; returns the member order for the archive."""
    readme = cleaner.data(render_readme(manifest).encode())
    (staging / README_NAME).write_bytes(readme)
    staged[README_NAME] = {"size": len(readme), "sha256": hashlib.sha256(readme).hexdigest()}
    manifest["members"] = dict(sorted(staged.items()))
    manifest_bytes = cleaner.data((json.dumps(manifest, indent=2) + "\n").encode())
    (staging / MANIFEST_NAME).write_bytes(manifest_bytes)
    sums = dict(staged)
    sums[MANIFEST_NAME] = {"size": len(manifest_bytes), "sha256": hashlib.sha256(manifest_bytes).hexdigest()}
    sums_body = "".join(f"{v['sha256']}  {k}\n" for k, v in sorted(sums.items())).encode()
    # a comment line (ignored by sha256sum -c) lets verify tell a damaged SHA256SUMS from a damaged member
    sums_text = sums_body + f"# self-check {hashlib.sha256(sums_body).hexdigest()}\n".encode()
    (staging / SUMS_NAME).write_bytes(sums_text)
    return [README_NAME, MANIFEST_NAME, SUMS_NAME] + sorted(staged.keys() - {README_NAME, MANIFEST_NAME})


def _manifest(name: str, top: str, case: str | None, compression: str, redact: str | None, cleaner: Cleaner,
              credentials: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    redactor, anon = cleaner.redactor, cleaner.anon
    return {
        "format": MANIFEST_FORMAT,
        "kind": "collector-bundle",
        "bundle": name,
        "top_folder": top,
        "created_at": utc_now(),
        "collector_version": __version__,
        "case": case,
        "compression": compression,
        "redaction": {
            "profile": redact,
            "rules": dict(sorted(redactor.counts.items())),
            "total": sum(redactor.counts.values()),
            "distinct": redactor.distinct_secrets,
            "credentials_given": credentials,
            "masked_on_write": all(bool(r.get("masked_on_write")) for r in runs),
            "note": "counts only; secret values are never recorded. Raw unredacted data stays in the run dir.",
        },
        "anonymization": {
            "kinds": sorted(anon.kinds),
            "counts": anon.counts() if anon.active else {},
            "private_map": "kept outside the bundle" if anon.active else None,
        },
        "runs": runs,
    }


def build_bundle(
    run_dirs: list[Path],
    out_dir: Path,
    *,
    case: str | None = None,
    redact: str | None = "default",
    anonymize: set[str] | None = None,
    words_file: Path | None = None,
    compression: str = "gz",  # "gz" | "xz" (checked at run time)
    encrypt_to: list[str] | None = None,
    extra_secrets: Iterable[Secret] = (),
    map_dir: Path | None = None,
    include_raw: bool = False,
    force: bool = False,
    fleet: dict[str, Any] | None = None,
) -> BundleResult:
    """Bundle one or more run directories into one archive with manifest, README, SHA256SUMS and `.sha256`.

    case: the case number (default: the one recorded at run time); redact: profile name (default/strict/
    credentials) or None (only `extra_secrets` and recorded secrets removed); anonymize: subset of {"ips",
    "hostnames", "users", "words"} (words come from `words_file`), one map for all runs, written with mode 0600 to
    `map_dir` (default: the state dir), never into `out_dir`; include_raw: carry the redacted raw transcript too;
    force: bundle a run that failed before it started; fleet: a fleet's per-device section (fleet.bundle), whose
    `run_index` points into run_dirs. Raises BundleError (StoreError for a non-run directory).
    """
    if not run_dirs:
        raise BundleError("no run directory given", hint="pass the directory `collector run` printed")
    if compression not in ("gz", "xz"):
        raise BundleError(f"unknown compression {compression!r}", hint="use gz or xz")
    warnings: list[str] = []
    runs = _open_runs(run_dirs, force, warnings)
    case = case or _recorded_case(runs, warnings)
    kinds = set(anonymize or ())
    if words_file is not None:
        kinds.add("words")
    if redact in ("none", "off", ""):
        redact = None  # only the credentials given to collector (and those on record) are still removed
    credentials = list(extra_secrets)
    anon = Anonymizer(kinds, _read_words(words_file))
    maps = map_dir_for(out_dir, map_dir) if anon.active else None
    cleaner = _cleaner(runs, redact, credentials, anon)
    _learn(runs, cleaner, fleet)
    names = _run_names(fleet, len(runs)) if fleet is not None else None
    _plan(runs, cleaner, include_raw, names)

    out_dir.mkdir(parents=True, exist_ok=True)
    slug = "fleet" if fleet is not None else runs[0].label.split("-", 1)[1] if len(runs) == 1 else "multi"
    name = _bundle_name(case, slug, compression, out_dir)
    top = name.removesuffix(".tar.gz").removesuffix(".tar.xz")
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{top}.staging-"))
    try:
        staged, records = _stage_runs(runs, staging, cleaner, redact is None and not anon.active)
        manifest = _manifest(name, top, case, compression, redact, cleaner, len(credentials), records)
        if fleet is not None:
            manifest["fleet"] = fleet_record(fleet, [r.label for r in runs], cleaner.text)
        order = _metadata(staging, staged, manifest, cleaner)
        path = out_dir / name
        digest = write_tar(staging, top, order, path, compression)
        sha_path = write_sha256_file(path, digest)
    except CollectorError:
        raise
    except OSError as exc:
        raise BundleError(f"cannot build the bundle in {out_dir}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    map_path = anon.write_map(maps / f"{name}.private-map.json") if maps is not None else None
    result = BundleResult(path, sha_path, digest, manifest, map_path, dict(cleaner.redactor.counts),
                          warnings=warnings)
    if encrypt_to:
        from .encrypt import encrypt_file

        result.encrypted_path, result.encrypted_sha256 = encrypt_file(path, encrypt_to)
    return result
