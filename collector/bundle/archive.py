"""Builds the case bundle: stages redacted members, writes manifest/README/SHA256SUMS, tars, checksums.

Everything streams in bounded blocks (a 1 GB step costs disk, not RAM); the unredacted raw stays in the run dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from .. import __version__
from ..errors import BundleError, CollectorError
from ..secrets import Secret
from ..store.chunks import chunk_name, read_index
from ..store.fsutil import utc_now, utc_stamp
from ..store.records import RunState
from ..store.rundir import RunDir, slugify
from .anonymize import Anonymizer
from .manifest import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    README_NAME,
    SUMS_NAME,
    Staged,
    clean_obj,
    run_record,
    target_parts,
)
from .readme import render_readme
from .redact import Redactor

BLOCK = 1 << 20


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


class _HashWriter:
    """File wrapper that hashes and counts what passes through."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.fh.write(data)
        self.hash.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self.fh.flush()

    def tell(self) -> int:
        return self.size


class _ChainReader:
    """Reads the raw chunks of a run in stream order as one file, checking each sealed chunk's SHA-256."""

    def __init__(self, raw_dir: Path) -> None:
        self.problems: list[str] = []
        self.files: list[tuple[Path, str | None, int]] = []
        seals = read_index(raw_dir)
        for s in seals:
            self.files.append((raw_dir / s.file, s.sha256, s.length))
        nxt = (seals[-1].chunk + 1) if seals else 1
        open_chunk = raw_dir / chunk_name(nxt)
        if open_chunk.exists():
            self.files.append((open_chunk, None, open_chunk.stat().st_size))
        # torn chunks (crash recovery) are sealed with torn=True and keep their offsets: they are included
        self.torn = [s.file for s in seals if getattr(s, "torn", False)]
        self.chunks = len(self.files)
        self._iter = self._blocks()
        self._buf = b""

    def _blocks(self) -> Iterator[bytes]:
        for path, sha, length in self.files:
            h = hashlib.sha256()
            got = 0
            try:
                with path.open("rb") as fh:
                    while got < length:
                        piece = fh.read(min(BLOCK, length - got))
                        if not piece:
                            break
                        got += len(piece)
                        h.update(piece)
                        yield piece
            except OSError as exc:
                self.problems.append(f"{path.name}: unreadable ({exc.strerror})")
                continue
            if got != length:
                self.problems.append(f"{path.name}: {got} bytes on disk, {length} sealed")
            elif sha is not None and h.hexdigest() != sha:
                self.problems.append(f"{path.name}: SHA-256 differs from its seal")

    def close(self) -> None:
        self._iter.close()  # type: ignore[attr-defined]

    def read(self, n: int = -1) -> bytes:
        while not self._buf:
            try:
                self._buf = next(self._iter)
            except StopIteration:
                return b""
        if n < 0 or n >= len(self._buf):
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while piece := fh.read(BLOCK):
            h.update(piece)
    return h.hexdigest()


def write_sha256_file(target: Path, digest: str) -> Path:
    """`<target>.sha256` in sha256sum format, written to a private temp file and renamed (as sos does)."""
    out = target.with_name(target.name + ".sha256")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{out.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{digest}  {target.name}\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    return out


@dataclass
class _Source:
    rel: str  # member path relative to the top folder
    path: Path | None = None  # a plain file
    raw_dir: Path | None = None  # the run's raw chunks
    journal: bool = False  # JSON lines: strings cleaned field by field, file references renamed


def _run_sources(rd: RunDir, prefix: str, rename: dict[str, str] | None = None) -> list[_Source]:
    """Every file of a run to bundle; `rename` maps step file names to their sanitized names."""
    rename = rename or {}
    sources: list[_Source] = []
    for sub in ("steps", "captures"):
        base = rd.path / sub
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file() and not p.is_symlink():
                    rel = p.relative_to(base).as_posix()
                    sources.append(_Source(f"{prefix}/{sub}/{rename.get(rel, rel)}", path=p))
    if rd.journal_path.exists():
        sources.append(_Source(f"{prefix}/journal.jsonl", path=rd.journal_path, journal=True))
    sources.append(_Source(f"{prefix}/raw/transcript.raw", raw_dir=rd.raw_dir))
    return sources


def _renames(rd: RunDir, state: RunState, clean: Callable[[str], str]) -> dict[str, str]:
    """Step files are named after their command; a command holding a secret or a real name gets a clean name.

    Also covers names the runner lower-cased (a secret would no longer match its case-sensitive rule there).
    """
    out: dict[str, str] = {}
    for rec in state.ordered():
        cleaned = clean(rec.command)
        files = [rec.file] + [a.partial_file for a in rec.attempts]
        for f in files:
            if not f:
                continue
            name = PurePosixPath(f).name
            if cleaned == rec.command and clean(name) == name:
                continue
            stem, sep, rest = name.partition(".txt")
            number = re.match(r"\d+", stem)
            new = f"{number.group(0) if number else rec.step:03}-{slugify(cleaned)}.txt{rest}" if sep else clean(name)
            out[name] = new
    for p in sorted(rd.steps_dir.glob("*")) if rd.steps_dir.is_dir() else []:
        if p.name not in out and clean(p.name) != p.name:
            out[p.name] = slugify(clean(p.name), 120)
    return out


def _journal_line(line: bytes, clean: Callable[[str], str], rename: dict[str, str]) -> bytes:
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


def _open(src: _Source) -> Any:
    if src.raw_dir is not None:
        return _ChainReader(src.raw_dir)
    assert src.path is not None
    return src.path.open("rb")


def _bundle_name(case: str | None, target_slug: str, compression: str, out_dir: Path) -> str:
    case_part = re.sub(r"[^A-Za-z0-9.,_-]+", "-", case).strip("-") if case else "nocase"
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
) -> BundleResult:
    """Bundle one or more run directories into one archive with manifest, README, SHA256SUMS and `.sha256`.

    redact: profile name (default/strict/credentials) or None (only `extra_secrets` removed);
    anonymize: subset of {"ips", "hostnames", "users", "words"} (words come from `words_file`), one map for all
    runs, written with mode 0600 to `map_dir` or beside the bundle, never inside; encrypt_to: age recipients.
    Raises BundleError (or StoreError for a directory that is not a run directory).
    """
    if not run_dirs:
        raise BundleError("no run directory given", hint="pass the directory `collector run` printed")
    if compression not in ("gz", "xz"):
        raise BundleError(f"unknown compression {compression!r}", hint="use gz or xz")
    rds = [RunDir.open(Path(p)) for p in run_dirs]
    kinds = set(anonymize or ())
    if words_file is not None:
        kinds.add("words")
    if redact in ("none", "off", ""):
        redact = None  # only the credentials given to collector are still removed
    credentials = list(extra_secrets)
    redactor = Redactor(redact or "credentials", extra_secrets=credentials)
    anon = Anonymizer(kinds, _read_words(words_file))

    def clean(s: str) -> str:
        return anon.text(redactor.redact_text(s)) if s else s

    infos = [rd.read_run_info() for rd in rds]
    for info in infos:
        host, user = target_parts(str(info.get("target", "")))
        anon.learn_target(host, user)

    # pass 1: learn secrets and names everywhere, so the first file already hides what a later one reveals
    for rd in rds:
        for src in _run_sources(rd, "x"):
            fh = _open(src)
            try:
                redactor.learn(fh)
            finally:
                fh.close()
            if anon.active:
                fh = _open(src)
                try:
                    anon.learn(fh)
                finally:
                    fh.close()
    plans: list[tuple[RunDir, dict[str, Any], str, RunState, dict[str, str], list[_Source]]] = []
    for i, (rd, info) in enumerate(zip(rds, infos, strict=True), start=1):
        host, _ = target_parts(str(info.get("target", "")))
        slug_src = clean(host) if host else str((info.get("playbook") or {}).get("name") or rd.path.name)
        label = f"{i:02d}-{slugify(slug_src, 32)}"
        state = rd.state()
        rename = _renames(rd, state, clean)
        plans.append((rd, info, label, state, rename, _run_sources(rd, f"runs/{label}", rename)))

    target_slug = plans[0][2].split("-", 1)[1] if len(plans) == 1 else "multi"
    out_dir.mkdir(parents=True, exist_ok=True)
    name = _bundle_name(case, target_slug, compression, out_dir)
    top = name.removesuffix(".tar.gz").removesuffix(".tar.xz")
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{top}.staging-"))
    try:
        staged: Staged = {}
        runs: list[dict[str, Any]] = []
        for rd, info, label, state, rename, sources in plans:
            raw_info: dict[str, Any] = {}
            for src in sources:
                dest = staging / src.rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                before = sum(redactor.counts.values())
                fh = _open(src)
                try:
                    with dest.open("wb") as raw_out:
                        hw = _HashWriter(raw_out)
                        if src.journal:
                            for line in fh:
                                hw.write(_journal_line(line, clean, rename))
                        else:
                            redactor.stream(fh, hw, post=anon.rewrite if anon.active else None)  # type: ignore[arg-type]
                finally:
                    fh.close()
                fired = sum(redactor.counts.values()) - before
                staged[src.rel] = {"size": hw.size, "sha256": hw.hash.hexdigest(), "redactions": fired}
                if isinstance(fh, _ChainReader):
                    raw_info = {"file": src.rel, "bytes": hw.size, "sha256": hw.hash.hexdigest(),
                                "source_bytes": sum(f[2] for f in fh.files), "chunks": fh.chunks,
                                "torn_chunks": fh.torn, "problems": fh.problems}
            info = {**info, "_source_dir": rd.path.name}
            if anon.active:  # run directory names and ids embed the target name
                info["_source_dir"] = info["run_id"] = label
            runs.append(run_record(label, f"runs/{label}", info, state, staged, raw_info, clean,
                                   include_source_hash=redact is None and not anon.active, rename=rename))

        manifest: dict[str, Any] = {
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
                "credentials_given": len(credentials),
                "note": "counts only; secret values are never recorded. Raw unredacted data stays in the run dir.",
            },
            "anonymization": {
                "kinds": sorted(anon.kinds),
                "counts": anon.counts() if anon.active else {},
                "private_map": "kept outside the bundle" if anon.active else None,
            },
            "runs": runs,
        }
        readme = render_readme(manifest).encode()
        (staging / README_NAME).write_bytes(readme)
        staged[README_NAME] = {"size": len(readme), "sha256": hashlib.sha256(readme).hexdigest()}
        manifest["members"] = dict(sorted(staged.items()))
        manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode()
        (staging / MANIFEST_NAME).write_bytes(manifest_bytes)
        sums = dict(staged)
        sums[MANIFEST_NAME] = {"size": len(manifest_bytes), "sha256": hashlib.sha256(manifest_bytes).hexdigest()}
        sums_body = "".join(f"{v['sha256']}  {k}\n" for k, v in sorted(sums.items())).encode()
        # a comment line (ignored by sha256sum -c) lets verify tell a damaged SHA256SUMS from a damaged member
        sums_text = sums_body + f"# self-check {hashlib.sha256(sums_body).hexdigest()}\n".encode()
        (staging / SUMS_NAME).write_bytes(sums_text)

        order = [README_NAME, MANIFEST_NAME, SUMS_NAME] + sorted(staged.keys() - {README_NAME})
        path = out_dir / name
        digest = _write_tar(staging, top, order, path, compression)
        sha_path = write_sha256_file(path, digest)
    except CollectorError:
        raise
    except OSError as exc:
        raise BundleError(f"cannot build the bundle in {out_dir}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    map_path: Path | None = None
    if anon.active:
        map_path = anon.write_map((map_dir or out_dir) / f"{name}.private-map.json")
    result = BundleResult(path, sha_path, digest, manifest, map_path, dict(redactor.counts))
    if encrypt_to:
        from .encrypt import encrypt_file

        result.encrypted_path, result.encrypted_sha256 = encrypt_file(path, encrypt_to)
    return result


def _write_tar(staging: Path, top: str, order: list[str], path: Path, compression: str) -> str:
    tmp = path.with_name(f".{path.name}.partial")
    mtime = int(time.time())
    try:
        with tmp.open("wb") as raw:
            hw = _HashWriter(raw)
            kwargs: dict[str, Any] = {"compresslevel": 6} if compression == "gz" else {"preset": 3}
            with tarfile.open(fileobj=hw, mode=f"w:{compression}", format=tarfile.PAX_FORMAT,  # type: ignore[call-overload]
                              **kwargs) as tar:
                dirs: set[str] = set()
                for rel in order:
                    parts = rel.split("/")
                    for depth in range(0, len(parts)):
                        d = "/".join([top, *parts[:depth]])
                        if d not in dirs:
                            dirs.add(d)
                            ti = tarfile.TarInfo(d)
                            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, mtime
                            tar.addfile(ti)
                    src = staging / rel
                    ti = tarfile.TarInfo(f"{top}/{rel}")
                    ti.size, ti.mode, ti.mtime = src.stat().st_size, 0o644, mtime
                    with src.open("rb") as fh:
                        tar.addfile(ti, fh)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o600)  # configs and transcripts, even redacted, are for the case only
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return hw.hash.hexdigest()
