"""A finished device run, sealed: a digest of its tree (every file's path, size and SHA-256), a gzip'd tar of it,
and the safe way back (regular files and folders only, under one top folder, never a link, `..` or absolute path).
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..errors import StoreError

MAX_MEMBERS = 200_000
READ = 1 << 20


def _files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(READ):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(root: Path) -> str:
    """SHA-256 over (relative path, size, SHA-256) of every regular file under root, in path order."""
    rows = []
    for path in _files(root):
        if path.is_symlink() or not path.is_file():
            continue
        rows.append([path.relative_to(root).as_posix(), path.stat().st_size, file_sha256(path)])
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()


def pack(run_dir: Path, out: Path) -> None:
    """run_dir as a gzip'd tar whose one top folder is the run directory's name (regular files only)."""
    with tarfile.open(out, "w:gz", compresslevel=1) as tar:  # text compresses well even at level 1; CPU is dear
        tar.add(run_dir, arcname=run_dir.name, recursive=False)
        for path in _files(run_dir):
            if path.is_symlink() or not path.is_file():
                continue
            tar.add(path, arcname=f"{run_dir.name}/{path.relative_to(run_dir).as_posix()}", recursive=False)


def _checked_name(name: str, top: str) -> PurePosixPath:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not p.parts or p.parts[0] != top or "\\" in name:
        raise StoreError(f"a result transfer holds an unsafe member {name!r}; it was not unpacked")
    return p


def unpack(archive: Path | BinaryIO, dest_parent: Path) -> Path:
    """Extract the one run folder of a sealed tar into dest_parent; returns it. Refuses anything but files/dirs."""
    try:
        return _unpack(archive, dest_parent)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise StoreError(f"a result transfer could not be unpacked: {type(exc).__name__}: {exc}") from None


def _unpack(archive: Path | BinaryIO, dest_parent: Path) -> Path:
    source = {"name": archive} if isinstance(archive, Path) else {"fileobj": archive}
    with tarfile.open(mode="r:gz", **source) as tar:  # type: ignore[call-overload]
        members = tar.getmembers()
        if not members or len(members) > MAX_MEMBERS:
            raise StoreError("a result transfer is empty or has too many members")
        top = PurePosixPath(members[0].name).parts[0] if members[0].name else ""
        if not top or top in (".", "..") or "/" in top:
            raise StoreError("a result transfer has no run folder")
        for m in members:
            _checked_name(m.name, top)
            if not (m.isfile() or m.isdir()):
                raise StoreError(f"a result transfer holds {m.name!r}, which is not a regular file or folder")
        target = dest_parent / top
        if target.exists():
            raise StoreError(f"{target} exists already; the transfer was not unpacked over it")
        dest_parent.mkdir(parents=True, exist_ok=True)
        for m in members:  # names were checked above: plain relative paths under `top`
            path = dest_parent / m.name
            if m.isdir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(m)
            assert src is not None
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if m.mode & 0o077 == 0 else 0o644)
            with os.fdopen(fd, "wb") as fh:
                while chunk := src.read(READ):
                    fh.write(chunk)
    return target
