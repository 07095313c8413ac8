"""Writes the staged members as one compressed tar under a single top folder, hashing the archive as it goes.

Regular files and directories only, fixed modes, in the given order; the result is 0600 and renamed into place.
"""

from __future__ import annotations

import os
import tarfile
import time
from pathlib import Path
from typing import Any

from .checksum import HashWriter


def write_tar(staging: Path, top: str, order: list[str], path: Path, compression: str) -> str:
    """Tar `order` (paths relative to `staging`) under `top/` into `path`; returns the archive's SHA-256."""
    tmp = path.with_name(f".{path.name}.partial")
    mtime = int(time.time())
    try:
        with tmp.open("wb") as raw:
            hw = HashWriter(raw)
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
