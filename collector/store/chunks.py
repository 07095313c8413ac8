"""The raw stream: every byte read from a device, appended before interpretation, in sealed chunks.

Each chunk file is bounded in size; when full it is fsync'd and sealed with its length and SHA-256 in raw/index.jsonl.
Known secrets are masked on the way in by a StreamMasker, also when one is split across two reads or two chunks.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreError
from ..secrets import Masker, StreamMasker
from .fsutil import append_line, utc_now
from .masking import write_masking

DEFAULT_CHUNK_SIZE = 1 << 20


@dataclass
class ChunkSeal:
    """A sealed raw chunk's record: its place in the stream, length and SHA-256."""

    chunk: int
    file: str
    offset: int
    length: int
    sha256: str
    sealed_at: str
    torn: bool = False  # recovered after a crash: kept, but its seal was made afterwards

    def to_json(self) -> dict[str, object]:
        return self.__dict__.copy()


class _Sealer:
    """One background thread that fsyncs full chunks and appends their seals, in submission order.

    Keeps fsync (milliseconds per MiB) off the read path; errors surface on the next submit or drain.
    """

    def __init__(self, index: Path) -> None:
        self.index = index
        self.queue: queue.Queue[tuple[int, ChunkSeal] | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.error: OSError | None = None

    def submit(self, fd: int, seal: ChunkSeal, *, inline: bool = False) -> None:
        """Queue a seal; `inline`: seal it in this thread now, after every queued one (the run's last chunk:
        no thread is started and joined just for it)."""
        if inline:
            try:
                self.drain()  # the queued seals first, in order; their error is the one to report
            except StoreError:
                os.close(fd)
                raise
            self._seal_one(fd, seal)
            self._raise()
            return
        try:
            self._raise()
        except StoreError:
            os.close(fd)  # the chunk stays unsealed on disk (resume recovers it as torn); its descriptor is ours
            raise
        if self.thread is None:
            self.thread = threading.Thread(target=self._work, name="collector-sealer", daemon=True)
            self.thread.start()
        self.queue.put((fd, seal))

    def drain(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            err, self.error = self.error, None
            raise StoreError(f"cannot seal a raw chunk ({err.strerror}); the bytes are on disk, unsealed") from err

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            self._seal_one(*item)

    def _seal_one(self, fd: int, seal: ChunkSeal) -> None:
        try:
            os.fsync(fd)
            append_line(self.index, json.dumps(seal.to_json()), fsync=True)
        except OSError as exc:
            self.error = exc
        except StoreError as exc:
            self.error = exc.__cause__ if isinstance(exc.__cause__, OSError) else OSError(str(exc))
        finally:
            os.close(fd)


def chunk_name(n: int) -> str:
    return f"{n:06d}.chunk"


def read_index(raw_dir: Path) -> list[ChunkSeal]:
    """Seals on record; a torn last line (crash mid-write) is ignored."""
    index = raw_dir / "index.jsonl"
    seals: list[ChunkSeal] = []
    if not index.exists():
        return seals
    for line in index.read_text().splitlines():
        try:
            seals.append(ChunkSeal(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return seals


class RawStream:
    """Append-only, byte-exact stream of one run, split into sealed chunk files.

    `offset` is the total number of bytes ever appended (across reconnects and resumes).
    Writes go straight to the OS (os.write) so a killed process loses nothing already read, except a tail
    that could still begin a known secret (at most the longest secret minus one byte): it is held back
    until the next read decides it, so no part of a secret is ever on disk. fsync happens once per sealed
    chunk, not per write.
    """

    def __init__(self, raw_dir: Path, chunk_size: int = DEFAULT_CHUNK_SIZE, masker: Masker | None = None) -> None:
        self.dir = raw_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.chunk_size = chunk_size
        self.masker = masker or Masker()
        self._mask = StreamMasker(self.masker)
        write_masking(raw_dir, self.masker)  # fingerprints only: lets a re-bundle check what it cannot know
        seals = read_index(raw_dir)
        self.offset = seals[-1].offset + seals[-1].length if seals else 0
        self._chunk = (seals[-1].chunk + 1) if seals else 1
        self._recover_torn(seals)
        self._disk = self.offset  # bytes on disk; `offset` minus what the masker holds back
        self._fd = -1
        self._sealer = _Sealer(self.dir / "index.jsonl")
        self._chunk_start = self.offset
        self._chunk_len = 0
        self._hash = hashlib.sha256()

    def _recover_torn(self, seals: list[ChunkSeal]) -> None:
        """An unsealed chunk left by a crash is renamed `.partial`, recorded as torn, and never reused.

        Its offsets stay reserved, so byte ranges journaled before the crash keep their meaning.
        """
        while (self.dir / chunk_name(self._chunk)).exists():
            torn = self.dir / chunk_name(self._chunk)
            data = torn.read_bytes()
            partial = torn.with_name(torn.name + ".partial")
            torn.rename(partial)
            seal = ChunkSeal(
                chunk=self._chunk, file=partial.name, offset=self.offset, length=len(data),
                sha256=hashlib.sha256(data).hexdigest(), sealed_at=utc_now(), torn=True,
            )
            append_line(self.dir / "index.jsonl", json.dumps(seal.to_json()), fsync=True)
            self.offset += len(data)
            self._chunk += 1

    def _open_chunk(self) -> None:
        path = self.dir / chunk_name(self._chunk)
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot create {path}: {exc.strerror}") from exc
        self._chunk_start = self._disk
        self._chunk_len = 0
        self._hash = hashlib.sha256()

    def append(self, data: bytes) -> int:
        """Append bytes; returns the stream offset where they start."""
        start = self.offset
        if data:
            self._write(self._mask.feed(data))
            self.offset += len(data)
        return start

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self._fd < 0:
            self._open_chunk()
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            raise StoreError(
                f"cannot write the raw stream ({exc.strerror}); {self._disk} bytes are safe on disk"
            ) from exc
        self._hash.update(data)
        self._chunk_len += len(data)
        self._disk += len(data)
        if self._chunk_len >= self.chunk_size:
            self.seal()

    def seal(self, *, inline: bool = False) -> ChunkSeal | None:
        """Close the current chunk; fsync and the index record happen on the sealer thread, in order (`inline`:
        here, after the queued ones).

        Until its seal is on disk a chunk counts as unsealed, so a crash in between only means
        `collector resume` recovers it as a torn chunk: nothing read is lost, nothing is trusted early.
        """
        if self._fd < 0:
            return None
        seal = ChunkSeal(
            chunk=self._chunk,
            file=chunk_name(self._chunk),
            offset=self._chunk_start,
            length=self._chunk_len,
            sha256=self._hash.hexdigest(),
            sealed_at=utc_now(),
        )
        fd, self._fd = self._fd, -1
        self._chunk += 1
        self._sealer.submit(fd, seal, inline=inline)
        return seal

    def close(self) -> None:
        """Write what the masker held back (the stream ends), seal the last chunk, wait until every seal is durable."""
        self._write(self._mask.flush())
        self.seal(inline=True)
        self._sealer.drain()
        write_masking(self.dir, self.masker)  # secrets learnt during the run (an OTP asked at login)


def iter_range(raw_dir: Path, start: int, end: int, block: int = 1 << 20) -> Iterator[bytes]:
    """Yield the stream bytes [start, end) from sealed chunks and the current unsealed one."""
    seals = read_index(raw_dir)
    spans: list[tuple[int, int, Path]] = [(s.offset, s.length, raw_dir / s.file) for s in seals]
    nxt = (seals[-1].chunk + 1) if seals else 1
    pos = seals[-1].offset + seals[-1].length if seals else 0
    while (raw_dir / chunk_name(nxt)).exists():  # chunks still waiting for their seal, and the open one
        path = raw_dir / chunk_name(nxt)
        size = path.stat().st_size
        spans.append((pos, size, path))
        pos += size
        nxt += 1
    for off, length, path in spans:
        if off + length <= start or off >= end:
            continue
        with path.open("rb") as fh:
            lo = max(start, off) - off
            hi = min(end, off + length) - off
            fh.seek(lo)
            remaining = hi - lo
            while remaining > 0:
                piece = fh.read(min(block, remaining))
                if not piece:
                    break
                remaining -= len(piece)
                yield piece

