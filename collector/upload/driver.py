"""Runs any `Adapter` to the end: the one send loop and the one retry block (tenacity, bounded) of all uploads.

Only `Retryable` failures are retried; everything else (usage, refused credentials, TLS or host-key trouble)
stops at once. After the last retry the error says so, with the adapter's resume hint.
"""

from __future__ import annotations

from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from ..errors import UploadError
from .common import Adapter, Job, Meter, Retryable, RunCounters, log
from .progress import NullProgress


def deliver(adapter: Adapter, job: Job, counters: RunCounters, progress: NullProgress, shown: int) -> None:
    """Bring the server to the whole bundle, then `finish()`; marks the destination complete and saves it."""
    meter = Meter(job, counters, progress, shown)
    total = job.plan.bundle_size

    def attempt() -> None:
        try:
            adapter.open()
            offset = adapter.offset()
            meter.confirmed(offset)
            job.save()
            while offset < total:
                offset = adapter.send(offset, meter)
                meter.confirmed(offset)
                job.save()
            adapter.finish()
        finally:
            adapter.close()

    retry_call(attempt, job, counters, what=f"upload to {adapter.label}", mask=adapter.masker.text,
               hint=adapter.resume_hint)
    job.dest.complete = True
    job.save()


def retry_call(
    fn: Callable[[], None],
    job: Job,
    counters: RunCounters,
    *,
    what: str,
    mask: Callable[[str], str],
    hint: str,
) -> None:
    """Run fn, retrying `Retryable` up to `opts.retries` times with exponential backoff and jitter."""
    retries, backoff = max(0, job.opts.retries), job.opts.backoff

    def before_sleep(rs: RetryCallState) -> None:
        exc = rs.outcome.exception() if rs.outcome else None
        log.warning("%s failed (attempt %d of %d): %s; retrying", what, rs.attempt_number, retries + 1,
                    mask(str(exc)))

    def counted() -> None:
        try:
            fn()
        except Retryable:
            counters.attempts_failed += 1
            raise

    retrying = Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=backoff, max=min(60.0, 64 * backoff)) + wait_random(0, backoff),
        retry=retry_if_exception_type(Retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        retrying(counted)
    except Retryable as exc:
        raise UploadError(
            f"{what} failed after {retries + 1} attempts (network or server trouble): {mask(str(exc))}",
            hint=hint,
        ) from None
