"""The raw stream: bounded chunks sealed in order, masking keeps offsets, torn chunks recovered after a crash."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from collector.secrets import Masker
from collector.store.chunks import RawStream, iter_range, read_index


def blob(n: int) -> bytes:
    return (hashlib.sha256(b"x").digest() * (n // 32 + 1))[:n]


def test_chunks_are_bounded_and_sealed_in_order(tmp_path: Path) -> None:
    raw = RawStream(tmp_path, chunk_size=1000)
    data = blob(10_500)
    for i in range(0, len(data), 333):
        raw.append(data[i : i + 333])
    raw.close()
    seals = read_index(tmp_path)
    assert [s.chunk for s in seals] == list(range(1, len(seals) + 1))
    assert sum(s.length for s in seals) == len(data) == raw.offset
    pos = 0
    for s in seals:
        chunk = (tmp_path / s.file).read_bytes()
        assert s.offset == pos and len(chunk) == s.length and hashlib.sha256(chunk).hexdigest() == s.sha256
        assert s.length < 1000 + 333
        pos += s.length
    assert b"".join(iter_range(tmp_path, 100, 9_000)) == data[100:9_000]


def test_masking_keeps_offsets_even_across_writes(tmp_path: Path) -> None:
    raw = RawStream(tmp_path, masker=Masker(["s3cr3t-pw"]))
    raw.append(b"login: admin\r\nPassword: s3cr3")
    raw.append(b"t-pw\r\nR1>")
    raw.close()
    data = b"".join((tmp_path / s.file).read_bytes() for s in read_index(tmp_path))
    assert b"s3cr3" not in data and data.count(b"*") == len("s3cr3t-pw")
    assert len(data) == raw.offset == len(b"login: admin\r\nPassword: s3cr3t-pw\r\nR1>")


def test_unsealed_chunks_after_a_crash_are_kept_as_torn_and_offsets_stay_reserved(tmp_path: Path) -> None:
    raw = RawStream(tmp_path, chunk_size=100)
    raw.append(blob(120))  # chunk 1 full: sealed
    raw.append(b"y" * 50)  # chunk 2 open
    raw._sealer.drain()
    # simulate a kill: chunk 2 written but never sealed, chunk 3 too (its seal still queued)
    os.close(raw._fd)
    (tmp_path / "000003.chunk").write_bytes(b"z" * 40)
    again = RawStream(tmp_path, chunk_size=100)
    seals = read_index(tmp_path)
    torn = [s for s in seals if s.torn]
    assert [s.file for s in torn] == ["000002.chunk.partial", "000003.chunk.partial"]
    assert again.offset == 120 + 50 + 40  # new bytes never reuse the offsets of what was on disk
    again.append(b"new")
    again.close()
    last = read_index(tmp_path)[-1]
    assert last.offset == 210 and not last.torn
