"""One step's normalised output file, masked and hashed as it streams (the SHA-256 is of what is on disk).

Written under a temporary name; renamed to the final name when complete, or kept as `.partial.N`. Known secrets
never reach it, neither in its bytes (StreamMasker, also across writes) nor in its name (Masker.name).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from ..errors import StoreError
from ..secrets import Masker, StreamMasker
from .ahead import FilesAhead

BUFFER = 64 << 10  # small steps are the common case; large writes bypass the buffer anyway


class StepFile:
    """A sink for Session.run: masked, buffered writes, running hash, atomic completion.

    `final` is the name the caller asked for with every secret masked out of it (read it back from `.final`).
    `bytes` counts what was written to the sink; once finished or kept, the file holds exactly that many.
    The file is created by `open()` or by the first write: a caller may create it while the device is answering
    (creating a file costs 0.1-0.3 ms here, a short command's whole round trip).
    """

    def __init__(self, final: Path, *, masker: Masker, ahead: FilesAhead | None = None) -> None:
        self.final = final.with_name(masker.name(final.name))
        self.tmp = self.final.with_name(self.final.name + ".writing")
        self.ahead = ahead  # files prepared while earlier commands ran (store/ahead.py)
        self.hash = hashlib.sha256()
        self.bytes = 0
        self._mask = StreamMasker(masker)
        self._fh: BinaryIO | None = None
        self._closed = False

    def open(self) -> None:
        """Create the file now (StoreError when it cannot be created); later calls do nothing."""
        if self._fh is None and not self._closed:
            fd = self.ahead.take(self.tmp) if self.ahead is not None else None
            if fd is not None:
                self._fh = os.fdopen(fd, "wb", buffering=BUFFER)
                return
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
        self.open()
        assert self._fh is not None
        try:
            self._fh.write(data)
        except OSError as exc:
            raise StoreError(f"cannot write {self.final.name}: {exc.strerror}") from exc
        self.hash.update(data)

    @property
    def sha256(self) -> str:
        return self.hash.hexdigest()

    def _close(self) -> None:
        if self._closed:
            return
        self.open()  # an empty output is an empty file
        self._put(self._mask.flush())
        assert self._fh is not None
        self._closed = True
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
        failed: StoreError | None = None
        try:
            self._close()
        except StoreError as exc:
            failed = exc
        partial = self.final.with_name(f"{self.final.name}.partial.{attempt}")
        try:
            os.replace(self.tmp, partial)
        except FileNotFoundError:  # the file could never be created: there is nothing to keep
            raise failed or StoreError(f"cannot create {self.tmp}") from None
        return partial
