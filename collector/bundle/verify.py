"""Verifies a bundle: the archive against `<bundle>.sha256`, then every member against manifest and SHA256SUMS.

Members are denied by default: only regular files and directories, once each, under one top folder, named with
plain components (no `..`, no absolute path, no link, device or FIFO). A bad bundle gives ok=False with the first
bad member named (safely printable); only unreadable input raises BundleError.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BundleError
from ..store.hashing import sha256_file
from .manifest import MANIFEST_NAME, SUMS_NAME

BLOCK = 1 << 20
SMALL_LIMIT = 256 << 20  # manifest.json / SHA256SUMS larger than this are refused
COMPONENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._,+=@-]{0,254}")  # what collector writes; never "." or ".."
MEMBER_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE)
TYPE_NAMES = {tarfile.SYMTYPE: "symbolic link", tarfile.LNKTYPE: "hard link", tarfile.CHRTYPE: "character device",
              tarfile.BLKTYPE: "block device", tarfile.FIFOTYPE: "FIFO", tarfile.CONTTYPE: "contiguous file",
              tarfile.GNUTYPE_SPARSE: "sparse file"}


@dataclass
class VerifyReport:
    ok: bool
    first_bad: str | None
    checked: int
    problems: list[str] = field(default_factory=list)


def shown(name: str) -> str:
    """A member name as it may be printed: anything but letters, digits and `/._,+=@-` as \\xNN (no markup, no
    terminal control)."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "/._,+=@-" else f"\\x{ord(c):02x}" for c in name)


def unsafe_name(name: str) -> str | None:
    """Why a member name is refused, or None: every component plain, none empty, `.` or `..`, not absolute."""
    if name.startswith("/"):
        return "an absolute path"
    parts = name.split("/")
    if any(p in (".", "..") for p in parts):
        return "a path with '..' or '.'"
    if any(not COMPONENT.fullmatch(p) for p in parts):
        return "not a plain name (letters, digits, '._,+=@-' per folder)"
    return None


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


@dataclass
class _Check:
    problems: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    archive_bad: bool = False
    hashes: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    small: dict[str, bytes] = field(default_factory=dict)
    top: str | None = None
    complete: bool = False

    def fail(self, member: str, problem: str) -> None:
        self.problems.append(f"{shown(member)}: {problem}")
        self.bad.append(member)


def _archive_checksum(path: Path, c: _Check) -> None:
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror}") from exc
    sha_file = path.with_name(path.name + ".sha256")
    if not sha_file.exists():
        c.problems.append(f"{sha_file.name} is missing: the archive itself cannot be checked")
        c.archive_bad = True
    elif sha_file.read_text(errors="replace").split()[:1] != [actual]:
        c.problems.append(f"{path.name}: SHA-256 {actual} does not match {sha_file.name}")
        c.archive_bad = True


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo, c: _Check, seen: set[str]) -> None:
    name = member.name
    if name in seen:
        c.fail(name, "appears twice in the archive")
        return
    seen.add(name)
    why = unsafe_name(name)
    if why is not None:
        c.fail(name, f"refused: {why}")
        return
    if member.type not in MEMBER_TYPES:
        c.fail(name, f"refused: a {TYPE_NAMES.get(member.type, f'member of type {member.type!r}')}, not a file")
        return
    head, _, rel = name.partition("/")
    if c.top is None:
        c.top = head
    if head != c.top or (not rel and not member.isdir()):
        c.fail(name, f"outside the top folder {shown(c.top)}")
        return
    if member.isdir():
        return
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
        c.small[rel] = b"".join(buf)
    c.hashes[rel] = h.hexdigest()
    c.order.append(rel)


def _read_members(path: Path, c: _Check) -> None:
    seen: set[str] = set()
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for member in tar:
                _member(tar, member, c, seen)
        c.complete = True
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as exc:
        c.problems.append(f"{path.name}: archive is corrupt or truncated after {len(c.order)} member(s): {exc}")
        c.archive_bad = True


def _manifest(c: _Check, sums: dict[str, str] | None) -> tuple[dict[str, Any] | None, dict[str, str]]:
    if MANIFEST_NAME not in c.small:
        c.fail(MANIFEST_NAME, "missing")
        return None, {}
    if sums is not None and sums.get(MANIFEST_NAME) != c.hashes.get(MANIFEST_NAME):
        c.fail(MANIFEST_NAME, f"SHA-256 differs from {SUMS_NAME}")
        return None, {}
    try:
        manifest = json.loads(c.small[MANIFEST_NAME])
        members = manifest.get("members") if isinstance(manifest, dict) else None
        if not isinstance(members, dict):
            raise ValueError("no member list")
        listed = {rel: str(meta.get("sha256")) if isinstance(meta, dict) else "" for rel, meta in members.items()}
        if manifest.get("top_folder") not in (None, c.top):
            raise ValueError(f"top folder {shown(str(manifest.get('top_folder')))} but the archive has "
                             f"{shown(str(c.top))}")
    except (ValueError, AttributeError) as exc:
        c.fail(MANIFEST_NAME, f"unusable ({exc})")
        return None, {}
    return manifest, listed


def _chain(c: _Check) -> None:
    """Trust chain: SHA256SUMS (self-checked) -> manifest.json -> members. Blame the first link that breaks."""
    sums = _parse_sums(c.small[SUMS_NAME]) if SUMS_NAME in c.small else None
    if sums is None:
        c.fail(SUMS_NAME, "missing, malformed or fails its self-check")
    manifest, listed = _manifest(c, sums)
    reference = sums if sums is not None else listed
    for rel in c.order:
        if rel in (MANIFEST_NAME, SUMS_NAME):
            continue
        want = reference.get(rel)
        if want is None:
            c.fail(rel, f"not listed in the {'checksums' if sums is not None else 'manifest'}")
        elif want != c.hashes[rel]:
            c.fail(rel, f"SHA-256 differs from {SUMS_NAME if sums is not None else MANIFEST_NAME}")
        elif manifest is not None and listed.get(rel) != c.hashes[rel]:
            c.fail(MANIFEST_NAME, f"its entry for {shown(rel)} differs from the member")
    if c.complete:
        for rel in reference:
            if rel not in c.hashes and rel != SUMS_NAME:
                c.fail(rel, "listed but missing from the archive")
        if manifest is not None and sums is not None:
            for rel in sorted(set(listed) - set(sums)):
                c.fail(MANIFEST_NAME, f"lists {shown(rel)}, which {SUMS_NAME} does not")


def verify_bundle(path: Path) -> VerifyReport:
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"{path} is not a file", hint="pass the .tar.gz/.tar.xz that `collector bundle` printed")
    c = _Check()
    _archive_checksum(path, c)
    if path.name.endswith(".age"):  # encrypted: only the archive checksum can be checked without the key
        return VerifyReport(ok=not c.problems, first_bad=path.name if c.problems else None, checked=0,
                            problems=c.problems)
    _read_members(path, c)
    _chain(c)
    position = {rel: i for i, rel in enumerate(c.order)}
    first_bad: str | None = None
    if c.bad:
        first_bad = shown(min(c.bad, key=lambda r: position.get(r, len(c.order))))
    elif c.archive_bad:
        first_bad = path.name
    return VerifyReport(ok=not c.problems, first_bad=first_bad, checked=len(c.order), problems=c.problems)
