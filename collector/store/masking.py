"""The run directory's masking record (raw/masking.json): how its bytes were masked, and secret fingerprints.

Holds, per known secret, its length and SHA-256(salt + value) — never a value — so re-bundling can find and mask
a secret that reached a file name or a record by some other way, without ever knowing it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..secrets import MASK, Masker
from .fsutil import atomic_write_json, utc_now

RECORD = "masking.json"
SCHEME = "stream-mask-1"  # raw chunks, step files (bytes and names), capture lines and journal masked on write
MAX_SCAN = 1 << 20  # text longer than this is not scanned window by window (contents are masked on write)
SEEN_LIMIT = 1 << 20  # windows remembered between scans (bounded memory)


@dataclass
class MaskingRecord:
    """Fingerprints of a run's secrets; `find`/`mask_*` scan text window by window against them."""

    scheme: str
    salt: bytes
    fingerprints: list[dict[str, Any]] = field(default_factory=list)
    _seen: dict[bytes, bool] = field(default_factory=dict, repr=False)
    _salted: Any = field(default=None, repr=False)
    _by_length: dict[int, set[str]] = field(default_factory=dict, repr=False)

    @property
    def digests(self) -> dict[int, set[str]]:
        """length -> SHA-256 hex digests of the secret spellings of that length."""
        out: dict[int, set[str]] = {}
        for fp in self.fingerprints:
            for form in fp.get("forms") or []:
                out.setdefault(int(form["length"]), set()).add(str(form["sha256"]))
        return out

    def find(self, data: bytes) -> list[tuple[int, int]]:
        """(start, length) of every window of `data` whose salted hash is a recorded secret's."""
        hits: list[tuple[int, int]] = []
        if len(data) > MAX_SCAN:
            return hits
        if self._salted is None:
            self._salted, self._by_length = hashlib.sha256(self.salt), self.digests
        if len(self._seen) > SEEN_LIMIT:
            self._seen.clear()
        seen = self._seen  # metadata repeats itself (timestamps, commands): each distinct window is hashed once
        for length, digests in self._by_length.items():
            for i in range(len(data) - length + 1):
                window = data[i:i + length]
                hit = seen.get(window)
                if hit is None:
                    h = self._salted.copy()
                    h.update(window)
                    hit = seen[window] = h.hexdigest() in digests
                if hit:
                    hits.append((i, length))
        return hits

    def mask_bytes(self, data: bytes) -> bytes:
        hits = self.find(data)
        if not hits:
            return data
        out = bytearray(data)
        for start, length in hits:
            out[start:start + length] = b"*" * length
        return bytes(out)

    def mask_text(self, text: str, replacement: str = MASK) -> str:
        """Each recorded secret in `text` (in any of its recorded spellings) becomes `replacement`."""
        data = text.encode("utf-8", "surrogateescape")
        hits = sorted(self.find(data))
        if not hits:
            return text
        pieces: list[bytes] = []
        pos = 0
        for start, length in hits:
            if start < pos:  # overlaps the previous hit: extend it
                pos = max(pos, start + length)
                continue
            pieces += [data[pos:start], replacement.encode()]
            pos = start + length
        pieces.append(data[pos:])
        return b"".join(pieces).decode("utf-8", "surrogateescape")


def read_masking(raw_dir: Path) -> MaskingRecord | None:
    """The record of a run directory's raw/ folder, or None (a run made before write-time masking)."""
    try:
        data = json.loads((raw_dir / RECORD).read_text())
        return MaskingRecord(str(data["scheme"]), bytes.fromhex(data["salt"]), list(data.get("secrets") or []))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_masking(raw_dir: Path, masker: Masker) -> None:
    """Record (or, on resume, extend) the fingerprints of every secret the masker knows; mode 0600."""
    old = read_masking(raw_dir)
    salt = old.salt if old is not None else os.urandom(16)
    merged = {json.dumps(fp, sort_keys=True): fp for fp in (old.fingerprints if old else [])}
    for fp in masker.fingerprints(salt):
        merged.setdefault(json.dumps(fp, sort_keys=True), fp)
    if old is not None and len(merged) == len(old.fingerprints):
        return
    atomic_write_json(raw_dir / RECORD, {
        "scheme": SCHEME, "salt": salt.hex(), "updated_at": utc_now(),
        "note": "salted SHA-256 and length of each secret, never a value",
        "secrets": list(merged.values()),
    }, mode=0o600)
