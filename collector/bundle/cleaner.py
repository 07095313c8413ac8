"""One cleaner for everything a bundle writes about a run: recorded secrets, local paths, redaction, pseudonyms.

Secrets are found by the run's salted fingerprints (raw/masking.json), so a re-bundle masks what it cannot know.
"""

from __future__ import annotations

from functools import lru_cache

from ..secrets import NAME_MASK
from ..store.masking import MaskingRecord
from .anonymize import Anonymizer
from .localpaths import LocalPaths
from .redact import Redactor


class Cleaner:
    """`text` for manifest, README and journal strings; `name` for member names; `data` for small members."""

    def __init__(self, redactor: Redactor, anon: Anonymizer, records: list[MaskingRecord], paths: LocalPaths) -> None:
        self.redactor = redactor
        self.anon = anon
        self.records = [r for r in records if r.fingerprints]
        self.paths = paths
        self._unsecret = lru_cache(maxsize=8192)(self._mask)

    def _mask(self, s: str, replacement: str | None) -> str:
        for r in self.records:
            s = r.mask_text(s) if replacement is None else r.mask_text(s, replacement)
        return s

    def text(self, s: str) -> str:
        if not s:
            return s
        s = self.paths.scrub(self._unsecret(s, None) if self.records else s)
        return self.anon.text(self.redactor.redact_text(s))

    def name(self, s: str) -> str:
        """A member name with every recorded secret spelling replaced by `redacted` (not yet slugified)."""
        return self._unsecret(s, NAME_MASK) if self.records and s else s

    def data(self, b: bytes) -> bytes:
        for r in self.records:
            b = r.mask_bytes(b)
        return b
