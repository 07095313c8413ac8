"""What every upload adapter shares: the options, the job, the `Adapter` type the driver runs, the byte meter and
the result. An adapter only moves bytes; retries, progress, state saving and counting live in driver.py.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..secrets import Masker, Secret
from .parts import PartsPlan
from .progress import NullProgress
from .state import DestState

log = logging.getLogger("collector.upload")

SAVE_EVERY = 8 * 1024 * 1024  # state (high-water mark of bytes sent) saved at least this often while sending


class Retryable(Exception):
    """A transient failure (drop, reset, timeout, 5xx): the attempt may be repeated."""


@dataclass
class UploadOptions:
    case: str
    token: Secret | None = None  # https/tus: Basic auth password (user = case)
    password: Secret | None = None  # sftp: login password (for CXD, the upload token)
    key_file: Path | None = None  # sftp: private key
    part_size: int | None = None  # https: numbered parts of this size (None: one PUT); tus: PATCH chunk size
    ca_bundle: Path | None = None
    retries: int = 5
    backoff: float = 1.0
    timeout: float = 60.0
    known_hosts: Path | None = None
    accept_new_host_key: bool = False
    sftp_verify: str = "full"


@dataclass
class Job:
    """One run towards one destination: what to send, where the progress is kept, and how to persist it."""

    bundle: Path
    plan: PartsPlan
    dest: DestState
    opts: UploadOptions
    save: Callable[[], None]


@dataclass
class RunCounters:
    bytes_sent: int = 0  # bundle bytes the socket accepted in this run (a failed send is not counted)
    bytes_resent: int = 0  # of those, bytes at offsets an earlier attempt had already sent
    attempts_failed: int = 0
    resumed_from: int | None = None  # bytes the server held when this run first asked
    confirmed: int = 0  # bytes the server holds, as last confirmed in this run


class Meter:
    """Counts bundle bytes as the socket accepts them, at their offsets, so re-sent bytes are known exactly."""

    def __init__(self, job: Job, counters: RunCounters, progress: NullProgress, shown: int) -> None:
        self._job = job
        self._counters = counters
        self._progress = progress
        self._shown = shown  # where the progress bar stands
        self._cursor = 0
        self._last_save = 0

    def confirmed(self, offset: int) -> None:
        """The server holds the first `offset` bytes: the bar and the cursor go there."""
        c = self._counters
        if c.resumed_from is None:
            c.resumed_from = offset
        c.confirmed = offset
        self._job.dest.remote_offset = offset
        self._progress.rewind(self._shown - offset)
        self._shown = self._cursor = offset

    def sent(self, n: int) -> None:
        """`n` more bytes from the cursor were accepted by the socket."""
        dest, c = self._job.dest, self._counters
        start, end = self._cursor, self._cursor + n
        c.bytes_sent += n
        c.bytes_resent += max(0, min(end, dest.sent_upto) - start)
        dest.sent_upto = max(dest.sent_upto, end)
        self._cursor = self._shown = end
        self._progress.advance(n)
        if c.bytes_sent - self._last_save >= SAVE_EVERY:
            self._last_save = c.bytes_sent
            self._job.save()


class Adapter(ABC):
    """One delivery protocol (https PUT, sftp, tus). The driver calls, per attempt: `open()`, `offset()`, then
    `send()` until the server holds the whole bundle, then `finish()`; `close()` always.
    Failures raise `Retryable` (the driver retries, bounded) or a CollectorError (final, at once).
    """

    mode = ""  # "single PUT", "parts", "append", "tus"
    resume_hint = "re-run the same `collector upload` command: it resumes with what is missing"

    def __init__(self, job: Job) -> None:
        self.job = job
        self.masker = make_masker(job.opts.token, job.opts.password)

    @property
    def proxy(self) -> str:
        """The proxy this run went through (credentials stripped); "" when direct or when nothing was sent."""
        return ""

    @property
    @abstractmethod
    def label(self) -> str:
        """Where the bundle goes, for messages (no credentials)."""

    @abstractmethod
    def open(self) -> None:
        """Connect and authenticate (or nothing, for protocols that connect on the first request)."""

    @abstractmethod
    def offset(self) -> int:
        """How many bytes of the bundle the server holds (a clean prefix)."""

    @abstractmethod
    def send(self, offset: int, meter: Meter) -> int:
        """Send the next unit from `offset`, reporting accepted bytes to `meter`; returns the server's new offset."""

    def finish(self) -> None:
        """After the last byte: whatever the protocol still owes (parts manifest, read-back check)."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Drop the connection (called after every attempt, failed or not)."""

    def summary(self) -> dict[str, Any]:
        return {"mode": self.mode, "proxy": self.proxy}


@dataclass(frozen=True)
class UploadResult:
    url: str  # where the bundle went, credentials stripped
    parts_total: int
    parts_sent: int  # parts the server has confirmed so far (this run and earlier ones)
    bytes_sent: int  # bundle bytes the socket accepted in this run, re-sent ones included
    bytes_resent: int  # of those, bytes an earlier attempt had already sent
    complete: bool
    parts_skipped: int = 0  # parts already confirmed before this run started
    bundle_size: int = 0
    attempts_failed: int = 0
    resumed_from: int = 0  # bytes the server held when this run started
    bytes_accepted: int = 0  # bytes the server confirmed in this run
    bytes_on_case: int = 0  # bytes the server holds now
    mode: str = ""
    proxy: str = ""  # proxy used, credentials stripped; "" = direct

    def summary(self) -> str:
        state = "complete" if self.complete else "incomplete"
        parts = f", {self.parts_sent}/{self.parts_total} parts" if self.parts_total > 1 else ""
        route = f"via proxy {self.proxy}" if self.proxy else "direct"
        return (
            f"{self.url}: {state}, {self.bytes_on_case} of {self.bundle_size} bytes on the case{parts}; "
            f"this run: {self.bytes_accepted} bytes accepted by the server, sent {self.bytes_sent} bytes "
            f"({self.bytes_resent} of them a second time after failures); {self.mode}, {route}"
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def strip_credentials(url: str) -> str:
    """The URL as stored and shown: without `user:password@` (a token pasted into the URL never leaks)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def make_masker(*secrets: Secret | str | None) -> Masker:
    m = Masker()
    for s in secrets:
        m.add(s)
    return m
