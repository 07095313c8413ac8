"""Split a bundle into numbered parts, each with its SHA-256, and describe them in a parts manifest.

Parts are never copied: a `PartReader` streams one byte range of the bundle, so memory stays flat.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

MiB = 1024 * 1024
DEFAULT_PART_SIZE = 64 * MiB
READ_BLOCK = 1 * MiB
MANIFEST_FORMAT = "collector-parts/1"


@dataclass(frozen=True)
class Part:
    index: int  # 1-based
    name: str
    offset: int
    size: int
    sha256: str


@dataclass(frozen=True)
class PartsPlan:
    """How one bundle is cut: the parts, the whole-file hash, and whether it goes as a single file."""

    bundle_name: str
    bundle_size: int
    bundle_sha256: str
    part_size: int
    parts: tuple[Part, ...]

    @property
    def single(self) -> bool:
        """A bundle that fits in one part is sent under its own name, with no parts manifest."""
        return len(self.parts) == 1

    @property
    def manifest_name(self) -> str:
        return f"{self.bundle_name}.parts.json"

    def to_json(self) -> dict[str, object]:
        return {
            "bundle_name": self.bundle_name,
            "bundle_size": self.bundle_size,
            "bundle_sha256": self.bundle_sha256,
            "part_size": self.part_size,
            "parts": [asdict(p) for p in self.parts],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PartsPlan:
        raw_parts = data["parts"]
        assert isinstance(raw_parts, list)
        return cls(
            bundle_name=str(data["bundle_name"]),
            bundle_size=int(str(data["bundle_size"])),
            bundle_sha256=str(data["bundle_sha256"]),
            part_size=int(str(data["part_size"])),
            parts=tuple(Part(**p) for p in raw_parts),
        )


def part_name(bundle_name: str, index: int, count: int) -> str:
    """`<bundle>.part0001`; the width grows past 4 digits only when there are more than 9999 parts."""
    width = max(4, len(str(count)))
    return f"{bundle_name}.part{index:0{width}d}"


def plan_parts(bundle: Path, part_size: int = DEFAULT_PART_SIZE) -> PartsPlan:
    """Hash the bundle once, part by part, and return the plan (one pass over the file)."""
    if part_size <= 0:
        raise ValueError("part size must be positive")
    size = bundle.stat().st_size
    count = max(1, -(-size // part_size))
    whole = hashlib.sha256()
    parts: list[Part] = []
    with bundle.open("rb") as fh:
        for i in range(count):
            offset = i * part_size
            length = min(part_size, size - offset)
            h = hashlib.sha256()
            left = length
            while left > 0:
                block = fh.read(min(READ_BLOCK, left))
                if not block:
                    raise OSError(f"{bundle} shrank while being hashed")
                h.update(block)
                whole.update(block)
                left -= len(block)
            name = bundle.name if count == 1 else part_name(bundle.name, i + 1, count)
            parts.append(Part(i + 1, name, offset, length, h.hexdigest()))
    return PartsPlan(bundle.name, size, whole.hexdigest(), part_size, tuple(parts))


def manifest_bytes(plan: PartsPlan) -> bytes:
    """The parts manifest uploaded last: names, sizes, SHA-256s and how to put the bundle back together."""
    names = " ".join(p.name for p in plan.parts)
    doc = {
        "format": MANIFEST_FORMAT,
        "bundle": {"name": plan.bundle_name, "size": plan.bundle_size, "sha256": plan.bundle_sha256},
        "part_size": plan.part_size,
        "parts": [{"name": p.name, "offset": p.offset, "size": p.size, "sha256": p.sha256} for p in plan.parts],
        "reassemble": {
            "posix": f"cat {plan.bundle_name}.part* > {plan.bundle_name} && sha256sum {plan.bundle_name}",
            "explicit_order": f"cat {names} > {plan.bundle_name}",
            "windows": f'copy /b "{plan.bundle_name}.part*" "{plan.bundle_name}"',
            "verify_sha256": plan.bundle_sha256,
        },
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


class PartReader:
    """A read-only file slice: `read(n)` and iteration stop at the part's end; `len()` is its size.

    requests/urllib3 take the length for Content-Length and stream the body through `read`.
    It hashes what it hands out, so the sender can prove the bytes on the wire were the planned ones.
    """

    def __init__(
        self,
        path: Path,
        offset: int,
        size: int,
        block: int = 256 * 1024,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        self._on_read = on_read
        self._fh: BinaryIO = path.open("rb")
        self._fh.seek(offset)
        self._left = size
        self._size = size
        self._block = block
        self.sent = 0
        self._hash = hashlib.sha256()

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if n is None or n < 0 else min(n, self._left)
        data = self._fh.read(want)
        self._left -= len(data)
        self.sent += len(data)
        self._hash.update(data)
        if self._on_read is not None and data:
            self._on_read(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        while True:
            data = self.read(self._block)
            if not data:
                return
            yield data

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> PartReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reassemble(parts: list[Path], out: BinaryIO) -> str:
    """Concatenate parts in order into `out`; returns the SHA-256 of the result (used by tests and docs)."""
    h = hashlib.sha256()
    for p in parts:
        with p.open("rb") as fh:
            while block := fh.read(READ_BLOCK):
                h.update(block)
                out.write(block)
    return h.hexdigest()
