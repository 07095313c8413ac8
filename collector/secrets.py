"""Secrets that never print, and the maskers every write to disk passes through (text, names, byte streams).

A Secret hides its value from str/repr/format; only `reveal()` gives it out, at the wire.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterable
from typing import Any

MASK = "********"
NAME_MASK = "redacted"  # a secret inside a file name: no '*', which Windows and shells treat specially
MIN_SECRET = 3  # shorter values would mask half the transcript; they are still never written by us
_EXTENSION = re.compile(r"\.[A-Za-z]{1,8}$")
_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")  # the characters a step file name replaces (store.rundir.slugify)


class Secret:
    """A password, OTP, enable secret or token; prints as a mask, compares by value."""

    __slots__ = ("_value", "label")

    def __init__(self, value: str, label: str = "secret") -> None:
        self._value = value
        self.label = label

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({self.label}={MASK})"

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> None:  # type: ignore[override]
        raise TypeError("a Secret cannot be pickled or serialised")


def secret_from_env(var: str, label: str = "password") -> Secret:
    from .errors import UsageError

    value = os.environ.get(var)
    if value is None:
        raise UsageError(f"environment variable {var} is not set", hint=f"export {var}=... or use --ask-password")
    return Secret(value, label)


def secret_from_command(command: str, label: str = "password") -> Secret:
    """Run a command (e.g. a password manager) and take the first line of its output."""
    from .errors import UsageError

    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired as exc:
        raise UsageError(f"{label} command timed out after 60 s", hint="check the --*-command") from exc
    if done.returncode != 0:
        raise UsageError(
            f"{label} command exited with status {done.returncode}",
            hint="run it by hand to see why; its output is never logged",
        )
    line = done.stdout.splitlines()[0] if done.stdout else ""
    if not line:
        raise UsageError(f"{label} command printed nothing", hint="it must print the secret on its first line")
    return Secret(line, label)


class Masker:
    """Knows every secret in play and blanks them out of text, file names and bytes.

    Byte masking keeps the length (each secret byte becomes '*') so that offsets into
    the raw stream stay true. Streams written piece by piece go through a `StreamMasker`.
    """

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: list[str] = []
        self._labels: dict[str, str] = {}
        self._bytes: list[bytes] = []
        self._text_forms: list[str] = []
        for s in secrets:
            self.add(s)

    def add(self, secret: Secret | str | None) -> None:
        if secret is None:
            return
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if len(value) < MIN_SECRET:
            return
        with self._lock:
            if value not in self._values:
                self._values.append(value)
                self._labels[value] = secret.label if isinstance(secret, Secret) else "secret"
                self._values.sort(key=len, reverse=True)
                self._bytes = [v.encode("utf-8", "surrogateescape") for v in self._values]
                # text is often JSON (journal lines): the escaped spelling of a value is masked too
                forms = {f for v in self._values
                         for f in (v, json.dumps(v)[1:-1], json.dumps(v, ensure_ascii=False)[1:-1])}
                self._text_forms = sorted(forms, key=len, reverse=True)

    @property
    def longest(self) -> int:
        return max((len(b) for b in self._bytes), default=0)

    @property
    def patterns(self) -> list[bytes]:
        """The byte values searched for, longest first (for StreamMasker)."""
        return self._bytes

    def __bool__(self) -> bool:
        return bool(self._values)

    def json(self, obj: Any) -> Any:
        """A copy of a JSON-able value with every string (keys too) masked: never the serialised text, so a secret
        that is also JSON syntax (`null`, `true`, a quote) cannot corrupt the document."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.text(k) if isinstance(k, str) else k: self.json(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.json(v) for v in obj]
        return obj

    def text(self, s: str) -> str:
        for v in self._text_forms:
            if v in s:
                s = s.replace(v, MASK)
        return s

    def name(self, s: str) -> str:
        """A file name without any secret: in any letter case, in the form a slug gives it, or cut off at its end.

        Every such spelling becomes `redacted`; a name whose slug ends (before `.txt`) in the first 3+ characters
        of a secret (a slug cut at its length limit) loses that tail too.
        """
        ext = _EXTENSION.search(s)  # the extension is collector's, never part of a secret's spelling
        stem, suffix = (s[: ext.start()], ext.group(0)) if ext and ext.start() > 0 else (s, "")
        for v in self._values:
            for form in {v, _NOT_IN_NAMES.sub("-", v), _NOT_IN_NAMES.sub("-", v).strip("-._")}:
                if len(form) >= MIN_SECRET:
                    stem = re.sub(re.escape(form), NAME_MASK, stem, flags=re.IGNORECASE)
        for v in self._values:
            stem = _mask_cut_tail(stem, _NOT_IN_NAMES.sub("-", v).lower())
        return stem + suffix

    def data(self, b: bytes) -> bytes:
        """Same-length masking of bytes (offsets preserved)."""
        for v in self._bytes:
            if v in b:
                b = b.replace(v, b"*" * len(v))
        return b

    def positions(self, b: bytes) -> list[tuple[int, int]]:
        """(start, length) of every secret occurrence in b."""
        out: list[tuple[int, int]] = []
        for v in self._bytes:
            start = b.find(v)
            while start != -1:
                out.append((start, len(v)))
                start = b.find(v, start + 1)
        return out

    def fingerprints(self, salt: bytes) -> list[dict[str, Any]]:
        """Per secret: label, length and SHA-256(salt + value) of its exact and its file-name spelling.

        Never the value: a run directory keeps these so that re-bundling can find (and mask) a secret that
        reached a name or a record some other way, without ever knowing it.
        """
        out: list[dict[str, Any]] = []
        for v, b in zip(self._values, self._bytes, strict=True):
            forms = {b, _NOT_IN_NAMES.sub("-", v).lower().encode("utf-8", "surrogateescape")}
            out.append({
                "label": self._labels.get(v, "secret"),
                "forms": sorted(({"length": len(f), "sha256": hashlib.sha256(salt + f).hexdigest()}
                                 for f in forms if len(f) >= MIN_SECRET), key=lambda d: d["sha256"]),
            })
        return out


class StreamMasker:
    """Masks a byte stream that arrives in pieces (reads, chunks): no part of a secret ever reaches the sink.

    Bytes go out as soon as they cannot be the start of a secret; only a tail that could still begin one (at
    most the longest secret minus one byte) is held back until the next piece decides it. Masking keeps the
    length. `flush()` ends the stream: a held tail that is a secret's beginning is masked too (deny by default).
    """

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self._held = b""
        self._force = 0  # leading bytes of _held that belong to a secret found across the cut

    @property
    def pending(self) -> int:
        """Bytes held back (not yet given out)."""
        return len(self._held)

    def feed(self, data: bytes) -> bytes:
        """The bytes that are safe to write now (masked), in order; the rest waits for the next piece."""
        if not self._held and not self.masker:
            return data
        buf = self._held + data if self._held else data
        cut = len(buf) - _secret_prefix_tail(buf, self.masker.patterns)
        spans = self.masker.positions(buf)
        force = max(0, self._force - cut)
        if self._force:
            spans.append((0, self._force))
        out: bytes | bytearray = buf[:cut]
        if spans:
            out = bytearray(out)
            for start, length in spans:
                end = min(start + length, cut)
                if start < end:
                    out[start:end] = b"*" * (end - start)
                if start < cut < start + length:
                    force = max(force, start + length - cut)
        self._held, self._force = buf[cut:], force
        return bytes(out)

    def flush(self) -> bytes:
        """End of the stream: what was held, masked whole (it is, by construction, a secret's beginning)."""
        out = b"*" * len(self._held)
        self._held, self._force = b"", 0
        return out


def _mask_cut_tail(stem: str, form: str) -> str:
    """A name's `stem` (no extension) with a cut-off beginning of `form` (3+ characters) masked at its end (where a
    slug cut at its length limit ends)."""
    low = stem.lower()
    for k in range(min(len(form) - 1, len(stem)), MIN_SECRET - 1, -1):
        if low.endswith(form[:k]):
            return stem[: len(stem) - k] + NAME_MASK
    return stem


def _secret_prefix_tail(buf: bytes, secrets: list[bytes]) -> int:
    """Length of the longest end of `buf` that is a proper beginning of one of `secrets` (0 if none)."""
    best, n = 0, len(buf)
    for s in secrets:
        i = buf.find(s[:1], max(0, n - len(s) + 1))
        while i != -1 and n - i > best:
            if s.startswith(buf[i:]):
                best = n - i
                break
            i = buf.find(s[:1], i + 1)
    return best
