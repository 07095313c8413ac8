"""What every upload adapter shares: the options, the result, and bounded retries through tenacity.

Only `Retryable` failures are retried; everything else (refused token, TLS or host-key trouble) stops at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from ..errors import UploadError
from ..secrets import Masker, Secret

log = logging.getLogger("collector.upload")

T = TypeVar("T")


class Retryable(Exception):
    """A transient failure (drop, reset, timeout, 5xx): the attempt may be repeated."""


@dataclass(frozen=True)
class UploadResult:
    url: str  # destination, credentials stripped
    parts_total: int
    parts_sent: int  # parts the server has confirmed so far (this run and earlier ones)
    bytes_sent: int  # bytes put on the wire by this run, re-sent ones included
    bytes_resent: int  # bytes of this run's failed attempts (they had to be sent again)
    complete: bool
    parts_skipped: int = 0  # parts already confirmed before this run started
    bundle_size: int = 0
    attempts_failed: int = 0
    resumed_from: int = 0  # sftp/tus: the server's offset when this run started sending

    def summary(self) -> str:
        state = "complete" if self.complete else "incomplete"
        return (
            f"{self.url}: {self.parts_sent}/{self.parts_total} parts on the case ({state}); "
            f"this run sent {self.bytes_sent} bytes, {self.bytes_resent} of them re-sent after failures"
        )


@dataclass
class UploadOptions:
    case: str
    token: Secret | None
    part_size: int
    ca_bundle: Path | None
    retries: int
    backoff: float
    timeout: float
    known_hosts: Path | None = None
    accept_new_host_key: bool = False
    password: Secret | None = None
    key_file: Path | None = None
    sftp_verify: str = "full"


@dataclass
class RunCounters:
    bytes_sent: int = 0
    bytes_resent: int = 0
    attempts_failed: int = 0
    resumed_from: int | None = None


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


def retry_call(
    fn: Callable[[], T],
    *,
    retries: int,
    backoff: float,
    what: str,
    masker: Masker,
    counters: RunCounters,
) -> T:
    """Run fn, retrying `Retryable` up to `retries` times with exponential backoff and jitter (bounded)."""

    def _before_sleep(rs: RetryCallState) -> None:
        exc = rs.outcome.exception() if rs.outcome else None
        log.warning(
            "%s failed (attempt %d of %d): %s; retrying",
            what,
            rs.attempt_number,
            retries + 1,
            masker.text(str(exc)),
        )

    def _counted() -> T:
        try:
            return fn()
        except Retryable:
            counters.attempts_failed += 1
            raise

    retrying = Retrying(
        stop=stop_after_attempt(max(0, retries) + 1),
        wait=wait_exponential(multiplier=backoff, max=min(60.0, 64 * backoff)) + wait_random(0, backoff),
        retry=retry_if_exception_type(Retryable),
        before_sleep=_before_sleep,
        reraise=True,
    )
    try:
        return retrying(_counted)
    except Retryable as exc:
        raise UploadError(
            f"{what} failed after {retries + 1} attempts: {masker.text(str(exc))}",
            hint="re-run the same `collector upload` command: it resumes with what is missing",
        ) from None
