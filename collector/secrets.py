"""Secrets that never print, and the masker every log/journal/manifest write passes through.

A Secret hides its value from str/repr/format; only `reveal()` gives it out, at the wire.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable

MASK = "********"


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
    """Knows every secret in play and blanks them out of text and bytes.

    Byte masking keeps the length (each secret byte becomes '*') so that offsets into
    the raw stream stay true.
    """

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: list[str] = []
        self._bytes: list[bytes] = []
        for s in secrets:
            self.add(s)

    def add(self, secret: Secret | str | None) -> None:
        if secret is None:
            return
        value = secret.reveal() if isinstance(secret, Secret) else secret
        # Very short values (1-2 chars) would mask half the transcript; they are still
        # never written by us, but are not searched for.
        if len(value) < 3:
            return
        with self._lock:
            if value not in self._values:
                self._values.append(value)
                self._values.sort(key=len, reverse=True)
                self._bytes = [v.encode("utf-8", "surrogateescape") for v in self._values]

    @property
    def longest(self) -> int:
        return max((len(b) for b in self._bytes), default=0)

    def __bool__(self) -> bool:
        return bool(self._values)

    def text(self, s: str) -> str:
        for v in self._values:
            if v in s:
                s = s.replace(v, MASK)
        return s

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
