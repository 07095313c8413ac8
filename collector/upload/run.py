"""`upload_bundle()`: check the arguments, verify the bundle, take the per-bundle lock, load or start the upload
state, run the scheme's adapter through the driver, and report what the server accepted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import BundleError, CollectorError, Interrupted, UploadError, UsageError
from ..secrets import Secret
from .common import Adapter, Job, RunCounters, UploadOptions, UploadResult, log
from .destination import Destination, check_case, check_part_size, check_secrets, parse_destination
from .driver import deliver
from .parts import PartsPlan, plan_parts
from .progress import make_progress
from .state import DestState, UploadState, load_state, new_state, save_state, state_path, touch
from .status import bytes_done, parts_done


def upload_bundle(
    bundle: Path,
    *,
    to: str,
    case: str,
    token: Secret | None = None,
    password: Secret | None = None,
    key_file: Path | None = None,
    part_size: int | None = None,
    ca_bundle: Path | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool = True,
    known_hosts: Path | None = None,
    accept_new_host_key: bool = False,
    sftp_verify: str = "full",
) -> UploadResult:
    """Upload (or resume uploading) `bundle` to `to` for `case`; raises a CollectorError, state kept for a re-run.

    https: one PUT of the whole bundle (numbered parts when part_size is given), Basic auth user = case,
    password = token. tus: same auth, PATCH chunks of part_size. sftp: user from the URL or the case; password
    or key_file; host key checked against known_hosts (unknown refused unless accept_new_host_key).
    """
    bundle = Path(bundle)
    dest_url = check_arguments(bundle, to, case, token=token, password=password, part_size=part_size)
    if sftp_verify not in ("full", "size"):
        raise UsageError(f"sftp_verify must be 'full' or 'size', not {sftp_verify!r}")
    opts = UploadOptions(case=case, token=token, password=password, key_file=key_file, part_size=part_size,
                         ca_bundle=ca_bundle, retries=retries, backoff=backoff, timeout=timeout,
                         known_hosts=known_hosts, accept_new_host_key=accept_new_host_key, sftp_verify=sftp_verify)
    with _exclusive(bundle):
        verify_before_sending(bundle)
        return _upload(bundle, dest_url, opts, progress)


def check_arguments(
    bundle: Path, to: str, case: str, *, token: object, password: object, part_size: int | None
) -> Destination:
    """Everything that can be checked without I/O on the network (usage errors, exit 2)."""
    dest = parse_destination(to, bundle.name)
    check_case(case)
    check_secrets(dest.scheme, token=token is not None, password=password is not None)
    check_part_size(dest.scheme, part_size)
    if not bundle.is_file():
        raise UsageError(f"bundle {bundle} does not exist or is not a file", hint="pass the path of a built bundle")
    return dest


def verify_before_sending(bundle: Path) -> None:
    """A bundle that fails `collector verify` is never sent (exit 21)."""
    from ..bundle import verify_bundle

    report = verify_bundle(bundle)
    if not report.ok:
        raise BundleError(
            f"{bundle.name} fails verification ({report.first_bad}); it was not sent",
            hint=f"run `collector verify {bundle}` for details, then re-create it with `collector bundle RUN_DIR`",
        )


@contextlib.contextmanager
def _exclusive(bundle: Path) -> Iterator[None]:
    """One upload per bundle at a time: an flock on the bundle itself (no lock file left behind)."""
    fd = os.open(bundle, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadError(
                f"another upload of {bundle.name} is running",
                hint="wait for it to finish (or stop it); two uploads of one bundle would overwrite each other's state",
            ) from None
        yield
    finally:
        os.close(fd)


def _prepare(bundle: Path, d: Destination, opts: UploadOptions) -> tuple[UploadState, DestState, PartsPlan]:
    state = load_state(bundle)
    if state is None or state.bundle_name != bundle.name:
        state = new_state(bundle)
    dest = state.destinations.get(d.url)
    if dest is not None and dest.case != opts.case:
        raise UsageError(
            f"{state_path(bundle).name} records an upload of this bundle to {d.url} for case {dest.case}, "
            f"not {opts.case}",
            hint=f"use --case {dest.case}, or move {state_path(bundle).name} aside to start over",
        )
    size = bundle.stat().st_size
    wanted = opts.part_size if d.scheme == "https" and opts.part_size else 0  # 0: the whole bundle in one piece
    if dest is not None and dest.scheme == "https" and dest.part_size != wanted:
        if opts.part_size is not None:
            layout = f"parts of {dest.part_size} bytes" if dest.part_size else "one PUT of the whole bundle"
            log.warning("--part-size ignored: the upload already started sends %s", layout)
        wanted = dest.part_size
    cached = dest.parts_plan() if dest is not None else None
    piece = wanted if 0 < wanted < size else max(1, size)
    plan = cached if cached is not None and state.same_file(bundle) and cached.part_size == piece else None
    if plan is None:
        plan = plan_parts(bundle, piece)
        changed = cached is not None and cached.bundle_sha256 != plan.bundle_sha256
        if changed and dest is not None and (dest.confirmed or dest.sent_upto > 0 or dest.remote_offset > 0):
            raise UploadError(
                    f"{bundle.name} changed since its upload to {d.url} started",
                    hint=f"upload the original bundle, or move {state_path(bundle).name} aside to start over",
                )
    s = bundle.stat()
    state.bundle_size, state.bundle_mtime_ns, state.bundle_sha256 = s.st_size, s.st_mtime_ns, plan.bundle_sha256
    if dest is None:
        dest = DestState(url=d.url, scheme=d.scheme, case=opts.case, part_size=wanted)
        state.destinations[d.url] = dest
    dest.plan = plan.to_json()
    state.last_url = d.url
    return state, dest, plan


def _adapter(job: Job, d: Destination) -> Adapter:
    if d.scheme == "https":
        from .http_put import HttpPutAdapter

        return HttpPutAdapter(job)
    if d.scheme == "sftp":
        from .sftp import SftpAdapter

        return SftpAdapter(job, d.given)
    from .tus import TusAdapter

    return TusAdapter(job)


def _upload(bundle: Path, d: Destination, opts: UploadOptions, progress: bool) -> UploadResult:
    state, dest, plan = _prepare(bundle, d, opts)

    def save() -> None:
        touch(dest)
        save_state(bundle, state)

    job = Job(bundle, plan, dest, opts, save)
    skipped = parts_done(dest, plan)
    counters = RunCounters()
    adapter = _adapter(job, d)
    if dest.complete:
        return _result(job, adapter, counters, skipped)
    dest.runs += 1
    job.save()
    done = bytes_done(dest, plan)
    bar = make_progress(progress, plan.bundle_size, done, f"upload {bundle.name}")
    try:
        with bar:
            deliver(adapter, job, counters, bar, done)
    except CollectorError as exc:  # UploadError, usage errors, host-key refusals from sftp
        dest.last_error = exc.message
        raise
    except KeyboardInterrupt:
        dest.last_error = "interrupted"
        raise Interrupted(
            f"upload interrupted: {_progress_text(job)} on the case",
            hint=adapter.resume_hint,
        ) from None
    else:
        dest.last_error = ""
    finally:
        dest.bytes_sent += counters.bytes_sent
        dest.bytes_resent += counters.bytes_resent
        job.save()
    return _result(job, adapter, counters, skipped)


def _progress_text(job: Job) -> str:
    plan, dest = job.plan, job.dest
    if len(plan.parts) > 1:
        return f"{parts_done(dest, plan)}/{len(plan.parts)} parts"
    return f"{bytes_done(dest, plan)} of {plan.bundle_size} bytes"


def _result(job: Job, adapter: Adapter, counters: RunCounters, skipped: int) -> UploadResult:
    dest, plan = job.dest, job.plan
    on_case = bytes_done(dest, plan)
    start = counters.resumed_from if counters.resumed_from is not None else on_case
    return UploadResult(
        url=adapter.label,
        parts_total=len(plan.parts),
        parts_sent=parts_done(dest, plan),
        bytes_sent=counters.bytes_sent,
        bytes_resent=counters.bytes_resent,
        complete=dest.complete,
        parts_skipped=skipped,
        bundle_size=plan.bundle_size,
        attempts_failed=counters.attempts_failed,
        resumed_from=start,
        bytes_accepted=max(0, counters.confirmed - start) if counters.resumed_from is not None else 0,
        bytes_on_case=on_case,
        **adapter.summary(),
    )
