"""One step's normalised output file, masked and hashed as it streams (the SHA-256 is of what is on disk).

Written under a temporary name; renamed to the final name when complete, or kept as `.partial.N`. Known secrets
never reach it, neither in its bytes (StreamMasker, also across writes) nor in its name (Masker.name).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from ..errors import StoreError
from ..secrets import Masker, StreamMasker

BUFFER = 64 << 10  # small steps are the common case; large writes bypass the buffer anyway


class StepFile:
    """A sink for Session.run: masked, buffered writes, running hash, atomic completion.

    `final` is the name the caller asked for with every secret masked out of it (read it back from `.final`).
    `bytes` counts what was written to the sink; once finished or kept, the file holds exactly that many.
    """

    def __init__(self, final: Path, *, masker: Masker) -> None:
        self.final = final.with_name(masker.name(final.name))
        self.tmp = self.final.with_name(self.final.name + ".writing")
        self.hash = hashlib.sha256()
        self.bytes = 0
        self._mask = StreamMasker(masker)
        try:
            self._fh = open(self.tmp, "wb", buffering=BUFFER)  # noqa: SIM115 - closed in finish/abandon
        except OSError as exc:
            raise StoreError(f"cannot create {self.tmp}: {exc.strerror}") from exc

    def write(self, data: bytes) -> None:
        self._put(self._mask.feed(data))
        self.bytes += len(data)

    def _put(self, data: bytes) -> None:
        if not data:
            return
        try:
            self._fh.write(data)
        except OSError as exc:
            raise StoreError(f"cannot write {self.final.name}: {exc.strerror}") from exc
        self.hash.update(data)

    @property
    def sha256(self) -> str:
        return self.hash.hexdigest()

    def _close(self) -> None:
        if not self._fh.closed:
            self._put(self._mask.flush())
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
