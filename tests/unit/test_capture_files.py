"""Capture files: rotation by size and age, seals that match the bytes, per-line receive times, torn recovery."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from collector.secrets import Masker
from collector.store.capture_files import CaptureFiles, iter_line_times, read_seals

T0 = 1000.0
U0 = 1_790_000_000.0


def line(n: int) -> bytes:
    return f"{n:06d}: debug event {n}".encode()


def check_seals(d: Path) -> list[bytes]:
    """Every sealed file's length and SHA-256 equal the file; returns all lines in order."""
    out: list[bytes] = []
    next_line = 1
    for seal in read_seals(d):
        data = (d / seal.file).read_bytes()
        assert len(data) == seal.length
        assert hashlib.sha256(data).hexdigest() == seal.sha256
        assert data.endswith(b"\n")  # files end on a line boundary
        assert seal.first_line == next_line
        assert data.count(b"\n") == seal.lines
        next_line += seal.lines
        out += data.splitlines()
    return out


def test_rotation_by_size_keeps_every_line_once(tmp_path: Path) -> None:
    cf = CaptureFiles(tmp_path / "c", rotate_size=1000, rotate_interval=3600, masker=Masker())
    for n in range(1, 501):
        cf.append(line(n), T0 + n * 0.01, U0 + n * 0.01)
    cf.close()
    seals = read_seals(tmp_path / "c")
    assert len(seals) > 5
    assert all(s.reason == "size" for s in seals[:-1]) and seals[-1].reason == "end"
    assert all(s.length < 1000 + 40 for s in seals)  # rotation happens at the next line boundary
    assert check_seals(tmp_path / "c") == [line(n) for n in range(1, 501)]
    assert cf.lines == 500 and cf.bytes == sum(s.length for s in seals)
    assert seals[0].first_mono == round(T0 + 0.01, 6) and seals[0].first_utc is not None


def test_rotation_by_interval_and_tick(tmp_path: Path) -> None:
    cf = CaptureFiles(tmp_path / "c", rotate_size=1 << 30, rotate_interval=1.0, masker=Masker())
    for n in range(1, 31):  # 10 lines/s for 3 s -> 3 files
        cf.append(line(n), T0 + (n - 1) * 0.1, U0 + (n - 1) * 0.1)
    assert len(cf.seals) == 2 and [s.reason for s in cf.seals] == ["interval", "interval"]
    assert not cf.due(T0 + 2.95)
    cf.tick(T0 + 3.05)  # quiet stream: the old file is sealed without waiting for a line
    assert len(cf.seals) == 3 and cf.current is None
    assert [s.lines for s in cf.seals] == [10, 10, 10]
    assert check_seals(tmp_path / "c") == [line(n) for n in range(1, 31)]


def test_line_times_round_trip(tmp_path: Path) -> None:
    d = tmp_path / "c"
    cf = CaptureFiles(d, rotate_size=700, rotate_interval=3600, masker=Masker())
    expected = []
    n = 0
    for receipt in range(40):  # 40 reads, 1-7 lines each
        mono, utc = T0 + receipt * 0.0371, U0 + receipt * 0.0371
        for _ in range(receipt % 7 + 1):
            n += 1
            cf.append(line(n), mono, utc)
            expected.append((n, mono))
    cf.close()
    times = list(iter_line_times(d))
    assert [t.line for t in times] == [e[0] for e in expected]
    assert all(abs(t.mono - e[1]) < 1e-5 for t, e in zip(times, expected, strict=True))
    for t in times[::17]:  # the offset points at the line itself
        with (d / t.file).open("rb") as fh:
            fh.seek(t.offset)
            assert fh.readline().rstrip(b"\n") == line(t.line)
    assert times[0].utc.startswith("2026-") and times[0].utc.endswith("Z")


def test_index_stays_small_for_big_reads(tmp_path: Path) -> None:
    """10 000 lines received in 32 KiB reads: the time index is a tiny fraction of the data."""
    d = tmp_path / "c"
    cf = CaptureFiles(d, rotate_size=1 << 30, rotate_interval=3600, masker=Masker())
    per_read = 300
    for r in range(10_000 // per_read + 1):
        for _ in range(per_read):
            cf.append(b"x" * 100, T0 + r * 0.03, U0 + r * 0.03)
    cf.close()
    index = (d / "lines.jsonl").stat().st_size
    assert index * 50 < cf.bytes, (index, cf.bytes)
    assert sum(1 for _ in iter_line_times(d)) == cf.lines


def test_unsealed_file_after_crash_is_kept_as_torn(tmp_path: Path) -> None:
    d = tmp_path / "c"
    cf = CaptureFiles(d, rotate_size=200, rotate_interval=3600, masker=Masker())
    for n in range(1, 21):
        cf.append(line(n), T0 + n, U0 + n)
    cf.flush()
    os.close(cf._fd)  # the process dies: the open file is never sealed
    again = CaptureFiles(d, rotate_size=200, rotate_interval=3600, masker=Masker())
    seals = read_seals(d)
    assert seals[-1].torn and seals[-1].reason == "torn"
    assert again.lines == 20
    again.append(line(21), T0 + 30, U0 + 30)
    again.close()
    assert check_seals(d) == [line(n) for n in range(1, 22)]
    assert len({s.file for s in read_seals(d)}) == len(read_seals(d))


def test_seal_records_are_json_lines(tmp_path: Path) -> None:
    cf = CaptureFiles(tmp_path / "c", rotate_size=100, rotate_interval=3600, masker=Masker())
    cf.append(b"hello", T0, U0)
    cf.close()
    rec = json.loads((tmp_path / "c" / "index.jsonl").read_text().splitlines()[0])
    assert rec["file"] == "0001.log" and rec["length"] == 6 and rec["lines"] == 1
    assert rec["first_utc"] == rec["last_utc"]
