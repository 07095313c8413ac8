"""Checksums beside a bundle: a writer that hashes and counts what passes, and `<file>.sha256` (sha256sum format).

Shared by the archive builder and the encryption step, so neither imports the other.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO


class HashWriter:
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


def write_sha256_file(target: Path, digest: str) -> Path:
    """`<target>.sha256` in sha256sum format, written to a private temp file and renamed (as sos does)."""
    out = target.with_name(target.name + ".sha256")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{out.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{digest}  {target.name}\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    return out
