"""Small file helpers the store relies on: atomic JSON writes, durable line appends, UTC stamps.

Disk-full and permission errors become StoreError with the path named.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import StoreError

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def no_space(exc: BaseException | None) -> bool:
    """Is this (or the OSError behind this StoreError) a full disk or an exhausted quota?"""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            return True
        exc = exc.__cause__
    return False


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_stamp() -> str:
    """Compact UTC stamp for directory and file names: 20261127T160501Z."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644, *, fsync: bool = True) -> None:
    """Write `path` whole or not at all: a temporary file in the same folder, created with `mode` (less what the
    umask takes, as for every file collector creates), renamed over it. The folder is made only when missing: a
    fleet writes thousands of these, and every metadata call costs."""
    try:
        try:
            fd, tmp = _create_temp(path, mode)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _create_temp(path, mode)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                if fsync:
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror}") from exc


def _create_temp(path: Path, mode: int) -> tuple[int, str]:
    """A new file `.<name>.<random>` beside `path`, opened for writing with `mode` (O_EXCL: never an old one)."""
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(4)}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))


def atomic_write_json(path: Path, obj: Any, mode: int = 0o644, *, fsync: bool = True) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode(), mode, fsync=fsync)



def append_line(path: Path, line: str, fsync: bool = False) -> None:
    """Append one line with a single write() so concurrent readers never see half a record."""
    data = (line.rstrip("\n") + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, data)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise StoreError(f"cannot append to {path}: {exc.strerror}") from exc
