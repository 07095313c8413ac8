"""The run's raw chunks read back in stream order as one file, each chunk checked against its seal.

Used for the bundle's raw member (`--include-raw`) and, without it, only to report damaged or torn chunks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..store.chunks import chunk_name, read_index

BLOCK = 1 << 20


class RawReader:
    """A read()-able view of the raw stream; `problems` lists chunks whose bytes differ from their seal."""

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

    def report(self) -> dict[str, Any]:
        """Chunk count, bytes on record, torn chunks and problems (read the stream to its end first)."""
        return {"source_bytes": sum(f[2] for f in self.files), "chunks": self.chunks, "torn_chunks": self.torn,
                "problems": self.problems}


def check_raw(raw_dir: Path) -> dict[str, Any]:
    """Read every chunk once against its seal (no copy): the raw stream's report when it is not bundled."""
    reader = RawReader(raw_dir)
    try:
        while reader.read(BLOCK):
            pass
    finally:
        reader.close()
    return reader.report()
