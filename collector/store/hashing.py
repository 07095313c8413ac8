"""The SHA-256 of a file, read in bounded blocks: one helper for the store, the bundle and its verification.

Lives in the store (the lowest layer that reads files) so every layer above can use it without a cycle.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK = 1 << 20


def sha256_file(path: Path, block: int = BLOCK) -> str:
    """Hex SHA-256 of the file at `path` (OSError propagates: callers name the file in their own error)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while piece := fh.read(block):
            h.update(piece)
    return h.hexdigest()
