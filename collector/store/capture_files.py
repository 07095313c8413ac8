"""Rotated capture files under captures/<name>/: NNNN.log sealed in index.jsonl, receive times in lines.jsonl.

lines.jsonl holds one record per batch of lines (offset, first line, runs of lines received together).
Every line is masked (known secrets become '*', length kept) before it is buffered.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..secrets import Masker
from .fsutil import append_line, utc_now

WRITE_BUFFER = 64 * 1024  # bytes held before one os.write
BATCH_LINES = 4096  # a lines.jsonl record covers at most this many lines ...
BATCH_SECONDS = 1.0  # ... or this long of receiving


def capture_file_name(n: int) -> str:
    return f"{n:04d}.log"


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class CaptureSeal:
    """One sealed capture file: its bytes, hash, lines and the receive times of its first and last line."""

    seq: int
    file: str
    length: int
    sha256: str
    lines: int
    first_line: int  # capture-wide line number (1-based) of the file's first line
    first_mono: float | None
    first_utc: str | None
    last_mono: float | None
    last_utc: str | None
    reason: str  # size | interval | gap | end | torn
    sealed_at: str
    torn: bool = False

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def read_seals(directory: Path) -> list[CaptureSeal]:
    """Seals on record; a torn last line (crash mid-write) is ignored."""
    index = directory / "index.jsonl"
    seals: list[CaptureSeal] = []
    if not index.exists():
        return seals
    for line in index.read_text().splitlines():
        try:
            seals.append(CaptureSeal(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return seals


@dataclass
class LineTime:
    """Receive time of one captured line (from lines.jsonl)."""

    line: int
    file: str
    offset: int
    mono: float
    utc: str


def iter_line_times(directory: Path) -> Iterator[LineTime]:
    """Expand lines.jsonl back to one receive time per line (monotonic + UTC), in capture order.

    Line byte offsets are recovered from the file itself, starting at each record's offset.
    """
    path = directory / "lines.jsonl"
    if not path.exists():
        return
    handles: dict[str, Any] = {}
    try:
        with path.open() as fh:
            for raw in fh:
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue
                name = rec["file"]
                data = handles.get(name)
                if data is None:
                    data = handles[name] = (directory / name).open("rb")
                data.seek(rec["offset"])
                line_no, offset = rec["line"], rec["offset"]
                base_mono, base_utc = rec["mono"], _parse_utc(rec["utc"])
                for count, ms in rec["runs"]:
                    mono = base_mono + ms / 1000.0
                    utc = iso_utc(base_utc + ms / 1000.0)
                    for _ in range(count):
                        yield LineTime(line_no, name, offset, round(mono, 6), utc)
                        line_no += 1
                        offset += len(data.readline())
    finally:
        for h in handles.values():
            h.close()


def _parse_utc(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class _Batch:
    """Lines of the current file not yet indexed in lines.jsonl."""

    offset: int
    line: int
    mono: float
    utc: float
    runs: list[list[float]] = field(default_factory=list)  # [count, ms after mono]
    count: int = 0


class CaptureFiles:
    """Appends captured lines to rotating, sealed files with per-line receive times.

    `append(line, mono, utc)` takes a line without its newline; each file ends on a line boundary. A file is
    sealed (fsync, length, SHA-256, first/last receive time in index.jsonl) when it reaches `rotate_size`, when
    it is `rotate_interval` seconds old, at a gap (`rotate("gap")`) and at `close()`. lines.jsonl gets one record
    per batch (at most BATCH_LINES lines or BATCH_SECONDS of receiving): {file, offset, line, mono, utc, runs},
    where runs are [count, ms after mono] for lines received together — a 500 MB capture of 100-byte lines
    received in 32 KiB reads costs about 3 bytes of index per line.
    """

    def __init__(
        self,
        directory: Path,
        *,
        rotate_size: int = 64 * 1024**2,
        rotate_interval: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        masker: Masker,
    ) -> None:
        self.dir = directory
        self.masker = masker
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {directory}: {exc.strerror}") from exc
        self.rotate_size = max(1, rotate_size)
        self.rotate_interval = rotate_interval
        self.clock = clock
        seals = read_seals(directory)
        self.lines = sum(s.lines for s in seals)  # capture-wide line count (also across a resumed run)
        self.bytes = sum(s.length for s in seals)
        self._seq = (seals[-1].seq + 1) if seals else 1
        self.files: list[str] = [s.file for s in seals]
        self._recover_torn()
        self._fd = -1
        self._buf = bytearray()
        self._hash = hashlib.sha256()
        self._len = 0
        self._file_lines = 0
        self._first_line = 0
        self._opened_at = 0.0
        self._first: tuple[float, float] | None = None
        self._last: tuple[float, float] | None = None
        self._batch: _Batch | None = None
        self.seals: list[CaptureSeal] = []

    # -- files -----------------------------------------------------------------------------------------------
    @property
    def current(self) -> str | None:
        return capture_file_name(self._seq) if self._fd >= 0 else None

    def _recover_torn(self) -> None:
        """A file left unsealed by a crash is sealed as torn (kept, never appended to again)."""
        while (self.dir / capture_file_name(self._seq)).exists():
            name = capture_file_name(self._seq)
            data = (self.dir / name).read_bytes()
            seal = CaptureSeal(
                seq=self._seq, file=name, length=len(data), sha256=hashlib.sha256(data).hexdigest(),
                lines=data.count(b"\n"), first_line=self.lines + 1, first_mono=None, first_utc=None,
                last_mono=None, last_utc=None, reason="torn", sealed_at=utc_now(), torn=True,
            )
            append_line(self.dir / "index.jsonl", json.dumps(seal.to_json()), fsync=True)
            self.files.append(name)
            self.lines += seal.lines
            self.bytes += seal.length
            self._seq += 1

    def _open(self, now: float) -> None:
        name = capture_file_name(self._seq)
        path = self.dir / name
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create {path}: {exc.strerror}") from exc
        self.files.append(name)
        self._hash = hashlib.sha256()
        self._len = 0
        self._file_lines = 0
        self._first_line = self.lines + 1
        self._opened_at = now
        self._first = self._last = None

    def _write_out(self) -> None:
        if not self._buf:
            return
        self._hash.update(self._buf)
        view = memoryview(self._buf)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as exc:
            raise StoreError(f"cannot write capture file {self.current}: {exc.strerror}") from exc
        finally:
            view.release()
        self._buf.clear()

    def _flush_batch(self) -> None:
        """Write buffered bytes first, then the batch record, so the index never points past the data."""
        self._write_out()
        b = self._batch
        if b is None or not b.count:
            return
        rec = {"file": capture_file_name(self._seq), "offset": b.offset, "line": b.line,
               "mono": round(b.mono, 6), "utc": iso_utc(b.utc), "runs": b.runs}
        append_line(self.dir / "lines.jsonl", json.dumps(rec, separators=(",", ":")))
        self._batch = None

    # -- public ----------------------------------------------------------------------------------------------
    def due(self, now: float) -> bool:
        """True when the open file has reached its age limit."""
        return self._fd >= 0 and now - self._opened_at >= self.rotate_interval

    def append(self, line: bytes, mono: float, utc: float) -> None:
        """Append one line (no newline) received at monotonic `mono` / epoch `utc`."""
        if self._fd >= 0 and (self._len >= self.rotate_size or mono - self._opened_at >= self.rotate_interval):
            self.rotate("size" if self._len >= self.rotate_size else "interval")
        if self._fd < 0:
            self._open(mono)
        data = self.masker.data(line) + b"\n"
        b = self._batch
        if b is not None and (b.count >= BATCH_LINES or mono - b.mono >= BATCH_SECONDS):
            self._flush_batch()
            b = None
        if b is None:
            b = self._batch = _Batch(offset=self._len, line=self.lines + 1, mono=mono, utc=utc)
        ms = round((mono - b.mono) * 1000.0, 3)
        if b.runs and b.runs[-1][1] == ms:
            b.runs[-1][0] += 1
        else:
            b.runs.append([1, ms])
        b.count += 1
        self._buf += data
        self._len += len(data)
        self._file_lines += 1
        self.lines += 1
        self.bytes += len(data)
        if self._first is None:
            self._first = (mono, utc)
        self._last = (mono, utc)
        if len(self._buf) >= WRITE_BUFFER:
            self._write_out()

    def flush(self) -> None:
        """Push buffered lines and their index record to disk (no fsync)."""
        if self._fd >= 0:
            self._flush_batch()

    def tick(self, now: float) -> None:
        """Called while the stream is quiet: seal an open file that has reached its age, flush old batches."""
        if self.due(now):
            self.rotate("interval")
        elif self._batch is not None and now - self._batch.mono >= BATCH_SECONDS:
            self._flush_batch()

    def rotate(self, reason: str) -> CaptureSeal | None:
        """Seal the open file (if any); the next line opens a new one."""
        if self._fd < 0:
            return None
        self._flush_batch()
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise StoreError(f"cannot sync capture file {self.current}: {exc.strerror}") from exc
        finally:
            os.close(self._fd)
            self._fd = -1
        first, last = self._first, self._last
        seal = CaptureSeal(
            seq=self._seq, file=capture_file_name(self._seq), length=self._len, sha256=self._hash.hexdigest(),
            lines=self._file_lines, first_line=self._first_line,
            first_mono=round(first[0], 6) if first else None, first_utc=iso_utc(first[1]) if first else None,
            last_mono=round(last[0], 6) if last else None, last_utc=iso_utc(last[1]) if last else None,
            reason=reason, sealed_at=utc_now(),
        )
        append_line(self.dir / "index.jsonl", json.dumps(seal.to_json()), fsync=True)
        self.seals.append(seal)
        self._seq += 1
        return seal

    def close(self) -> None:
        self.rotate("end")


__all__ = ["CaptureFiles", "CaptureSeal", "LineTime", "capture_file_name", "iter_line_times", "read_seals"]
