"""Result transfer through Redis (the default; no shared filesystem needed): the sealed device run is pushed as
a list of bounded chunks with a TTL; the submitter reads it chunk by chunk into a file, checks size and SHA-256,
unpacks it safely, and deletes the key. Memory stays bounded by one chunk on both sides.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import StoreError
from . import keys
from .seal import pack, unpack

if TYPE_CHECKING:
    import redis

CHUNK = 1 << 20
IN_MEMORY = 8 << 20  # transfers up to this size are verified and unpacked in memory
TTL = 7 * 86400


@dataclass(frozen=True)
class Sealed:
    """What a worker says about a device run it sends: where it is and how to check it."""

    run_name: str
    digest: str  # tree digest (shared runs directory; a Redis transfer is checked by its archive's SHA-256)
    mode: str  # "redis" (chunks under `key`) or "shared" (already in the submitter's fleet directory)
    key: str = ""
    size: int = 0
    sha256: str = ""
    chunks: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"run_name": self.run_name, "digest": self.digest, "mode": self.mode, "key": self.key,
                "size": self.size, "sha256": self.sha256, "chunks": self.chunks}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sealed:
        return cls(run_name=str(data["run_name"]), digest=str(data["digest"]), mode=str(data["mode"]),
                   key=str(data.get("key") or ""), size=int(data.get("size") or 0),
                   sha256=str(data.get("sha256") or ""), chunks=int(data.get("chunks") or 0))


def send(r: redis.Redis, run_dir: Path, fid: str, slug: str, nonce: str, chunk: int = CHUNK) -> Sealed:
    """Seal run_dir and push it as chunks (a retry after a broker outage starts the key afresh)."""
    key = keys.transfer(fid, slug, nonce)
    with tempfile.TemporaryDirectory(prefix="collector-seal-") as tmp:
        archive = Path(tmp) / "run.tar.gz"
        pack(run_dir, archive)
        h = hashlib.sha256()
        count = 0
        r.delete(key)
        with archive.open("rb") as fh:
            while data := fh.read(chunk):
                h.update(data)
                pipe = r.pipeline()
                pipe.rpush(key, data)
                pipe.expire(key, TTL)
                pipe.execute()
                count += 1
        size = archive.stat().st_size
    return Sealed(run_dir.name, "", "redis", key, size, h.hexdigest(), count)


def receive(r: redis.Redis, sealed: Sealed, dest_parent: Path) -> Path:
    """Fetch, verify and unpack a transfer into dest_parent; the run folder's path. StoreError if anything is off.

    A small transfer is held in memory; a large one goes through a temporary file (memory stays bounded)."""
    dest_parent.mkdir(parents=True, exist_ok=True)
    if sealed.size <= IN_MEMORY:
        buf = io.BytesIO()
        _fetch(r, sealed, buf)
        buf.seek(0)
        return unpack(buf, dest_parent)
    fd, name = tempfile.mkstemp(prefix=".transfer-", suffix=".tar.gz", dir=dest_parent)
    archive = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            _fetch(r, sealed, fh)
        return unpack(archive, dest_parent)  # the archive's SHA-256 matched: its files are the worker's
    finally:
        archive.unlink(missing_ok=True)


def _fetch(r: redis.Redis, sealed: Sealed, out: BinaryIO) -> None:
    h = hashlib.sha256()
    size = 0
    for i in range(sealed.chunks):
        part = r.lindex(sealed.key, i)
        if part is None:
            raise StoreError(f"the result transfer of {sealed.run_name} is incomplete (chunk {i} missing)")
        data = part if isinstance(part, bytes) else str(part).encode("latin-1")
        h.update(data)
        size += len(data)
        out.write(data)
    if size != sealed.size or h.hexdigest() != sealed.sha256:
        raise StoreError(f"the result transfer of {sealed.run_name} does not match its seal "
                         f"({size} bytes, SHA-256 {h.hexdigest()[:12]}…)")
