"""Verifies a bundle: the archive against `<bundle>.sha256`, then every member against manifest and SHA256SUMS.

A bad bundle gives ok=False with the first bad member named; only unreadable input raises BundleError.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BundleError
from .manifest import MANIFEST_NAME, SUMS_NAME

BLOCK = 1 << 20
SMALL_LIMIT = 256 << 20  # manifest.json / SHA256SUMS larger than this are refused


@dataclass
class VerifyReport:
    ok: bool
    first_bad: str | None
    checked: int
    problems: list[str] = field(default_factory=list)


def _archive_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while piece := fh.read(BLOCK):
            h.update(piece)
    return h.hexdigest()


def _parse_sums(data: bytes) -> dict[str, str] | None:
    """SHA256SUMS entries, or None when it is malformed or fails its own self-check line."""
    text = data.decode("utf-8", "replace")
    body, sep, check = text.rpartition("# self-check ")
    if not sep or not check.endswith("\n") or check[:-1] != hashlib.sha256(body.encode()).hexdigest():
        return None
    out: dict[str, str] = {}
    for line in body.split("\n")[:-1]:
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not name:
            return None
        if any(ord(c) < 32 or c == "\ufffd" for c in name) or name in out:
            return None
        out[name] = digest
    return out


def verify_bundle(path: Path) -> VerifyReport:
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"{path} is not a file", hint="pass the .tar.gz/.tar.xz that `collector bundle` printed")
    try:
        actual_archive = _archive_digest(path)
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror}") from exc

    problems: list[str] = []
    bad_members: list[str] = []
    archive_bad = False
    sha_file = path.with_name(path.name + ".sha256")
    if not sha_file.exists():
        problems.append(f"{sha_file.name} is missing: the archive itself cannot be checked")
        archive_bad = True
    else:
        expected = sha_file.read_text(errors="replace").split()[:1]
        if expected != [actual_archive]:
            problems.append(f"{path.name}: SHA-256 {actual_archive} does not match {sha_file.name}")
            archive_bad = True

    if path.name.endswith(".age"):  # encrypted: only the archive checksum can be checked without the key
        return VerifyReport(ok=not problems, first_bad=path.name if problems else None, checked=0, problems=problems)

    hashes: dict[str, str] = {}
    order: list[str] = []
    small: dict[str, bytes] = {}
    top: str | None = None
    complete = False
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for member in tar:
                name = member.name
                head, _, rel = name.partition("/")
                if top is None:
                    top = head
                if head != top:
                    problems.append(f"{name}: outside the top folder {top}")
                    bad_members.append(name)
                    continue
                if member.isdir():
                    continue
                if not member.isfile():
                    problems.append(f"{name}: not a regular file (type {member.type!r})")
                    bad_members.append(name)
                    continue
                fh = tar.extractfile(member)
                assert fh is not None
                h = hashlib.sha256()
                keep = rel in (MANIFEST_NAME, SUMS_NAME) and member.size <= SMALL_LIMIT
                buf: list[bytes] = []
                while piece := fh.read(BLOCK):
                    h.update(piece)
                    if keep:
                        buf.append(piece)
                if keep:
                    small[rel] = b"".join(buf)
                hashes[rel] = h.hexdigest()
                order.append(rel)
        complete = True
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as exc:
        problems.append(f"{path.name}: archive is corrupt or truncated after {len(order)} member(s): {exc}")
        archive_bad = True

    # Trust chain: SHA256SUMS (self-checked) -> manifest.json -> members. Blame the first link that breaks.
    sums = _parse_sums(small[SUMS_NAME]) if SUMS_NAME in small else None
    if sums is None:
        problems.append(f"{SUMS_NAME}: missing, malformed or fails its self-check")
        bad_members.append(SUMS_NAME)
    manifest: dict[str, Any] | None = None
    listed: dict[str, str] = {}
    if MANIFEST_NAME not in small:
        problems.append(f"{MANIFEST_NAME}: missing")
        bad_members.append(MANIFEST_NAME)
    elif sums is not None and sums.get(MANIFEST_NAME) != hashes.get(MANIFEST_NAME):
        problems.append(f"{MANIFEST_NAME}: SHA-256 differs from {SUMS_NAME}")
        bad_members.append(MANIFEST_NAME)
    else:
        try:
            manifest = json.loads(small[MANIFEST_NAME])
            members = manifest.get("members") if isinstance(manifest, dict) else None
            if not isinstance(members, dict):
                raise ValueError("no member list")
            listed = {rel: str(meta.get("sha256")) if isinstance(meta, dict) else "" for rel, meta in members.items()}
            if manifest.get("top_folder") not in (None, top):
                raise ValueError(f"top folder {manifest.get('top_folder')} but the archive has {top}")
        except (ValueError, AttributeError) as exc:
            problems.append(f"{MANIFEST_NAME}: unusable ({exc})")
            bad_members.append(MANIFEST_NAME)
            manifest = None
    reference = sums if sums is not None else listed
    for rel in order:
        if rel in (MANIFEST_NAME, SUMS_NAME):
            continue
        want = reference.get(rel)
        if want is None:
            problems.append(f"{rel}: not listed in the {'checksums' if sums is not None else 'manifest'}")
            bad_members.append(rel)
        elif want != hashes[rel]:
            problems.append(f"{rel}: SHA-256 differs from {SUMS_NAME if sums is not None else MANIFEST_NAME}")
            bad_members.append(rel)
        elif manifest is not None and listed.get(rel) != hashes[rel]:
            problems.append(f"{MANIFEST_NAME}: its entry for {rel} differs from the member")
            bad_members.append(MANIFEST_NAME)
    if complete:
        for rel in reference:
            if rel not in hashes and rel != SUMS_NAME:
                problems.append(f"{rel}: listed but missing from the archive")
                bad_members.append(rel)
        if manifest is not None and sums is not None:
            for rel in set(listed) - set(sums):
                problems.append(f"{MANIFEST_NAME}: lists {rel}, which {SUMS_NAME} does not")
                bad_members.append(MANIFEST_NAME)

    position = {rel: i for i, rel in enumerate(order)}
    first_bad: str | None = None
    if bad_members:
        first_bad = min(bad_members, key=lambda r: position.get(r, len(order)))
    elif archive_bad:
        first_bad = path.name
    return VerifyReport(ok=not problems, first_bad=first_bad, checked=len(order), problems=problems)
