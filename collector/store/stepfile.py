"""One step's normalised output file, written as it streams, with its SHA-256 computed on the way.

Written under a temporary name; renamed to the final name when complete, or kept as `.partial.N`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from ..errors import StoreError

BUFFER = 64 << 10  # small steps are the common case; large writes bypass the buffer anyway


class StepFile:
    """A sink for Session.run: buffered writes, running hash, atomic completion."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.tmp = final.with_name(final.name + ".writing")
        self.hash = hashlib.sha256()
        self.bytes = 0
        try:
            self._fh = open(self.tmp, "wb", buffering=BUFFER)  # noqa: SIM115 - closed in finish/abandon
        except OSError as exc:
            raise StoreError(f"cannot create {self.tmp}: {exc.strerror}") from exc

    def write(self, data: bytes) -> None:
        try:
            self._fh.write(data)
        except OSError as exc:
            raise StoreError(f"cannot write {self.final.name}: {exc.strerror}") from exc
        self.hash.update(data)
        self.bytes += len(data)

    @property
    def sha256(self) -> str:
        return self.hash.hexdigest()

    def _close(self) -> None:
        if not self._fh.closed:
            try:
                self._fh.close()
            except OSError as exc:
                raise StoreError(f"cannot write {self.final.name}: {exc.strerror}") from exc

    def finish(self) -> Path:
        self._close()
        os.replace(self.tmp, self.final)
        return self.final

    def keep_partial(self, attempt: int) -> Path:
        """An interrupted attempt: keep what arrived as `<name>.partial.<attempt>` (also when the disk is full:
        whatever reached the disk is kept under the partial's name)."""
        with contextlib.suppress(StoreError):
            self._close()
        partial = self.final.with_name(f"{self.final.name}.partial.{attempt}")
        os.replace(self.tmp, partial)
        return partial
