"""Resumable upload of a bundle to a support case: https:// PUT of numbered parts, sftp:// append, tus 1.0.

`upload_bundle()` picks the adapter from the URL scheme and keeps `<bundle>.upload.json` so a re-run resumes.

A bundle that fits in one part (size <= part_size) goes under its own name with no parts manifest;
a larger one goes as `<bundle>.part0001`... plus `<bundle>.parts.json`, uploaded last. SFTP and tus always send
the whole file under its own name and resume from the server's offset (see sftp.py and tus.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import CollectorError, Interrupted, UploadError
from ..secrets import Secret
from .common import RunCounters, UploadOptions, UploadResult, log, strip_credentials
from .parts import DEFAULT_PART_SIZE, MiB, PartsPlan, plan_parts
from .progress import make_progress
from .state import DestState, UploadState, load_state, new_state, save_state, state_path, touch

__all__ = [
    "DEFAULT_PART_SIZE",
    "MiB",
    "UploadResult",
    "format_status",
    "upload_bundle",
    "upload_status",
]

_CASE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SCHEMES = {"https", "sftp", "tus", "tus+https"}


def _check_args(bundle: Path, to: str, case: str, part_size: int) -> str:
    if not bundle.is_file():
        raise UploadError(f"bundle {bundle} does not exist or is not a file", hint="pass the path of a built bundle")
    if not _CASE_RE.fullmatch(case or ""):
        raise UploadError(
            f"case number {case!r} is not valid", hint="use the case/SR number: letters, digits, '.', '-', '_'"
        )
    if part_size < 64 * 1024:
        raise UploadError("part size must be at least 64 KiB", hint="use --part-size 64M (the default) or similar")
    try:
        parts = urlsplit(to)
        _ = parts.port
    except ValueError:  # its message may quote a mistyped token: not shown
        raise UploadError(
            "the upload URL is not valid (bad host or port)", hint="e.g. https://cxd.cisco.com/home/"
        ) from None
    scheme = parts.scheme.lower()
    if scheme == "http":
        raise UploadError(
            "plain http:// would send the case token in clear", hint="use an https:// URL (TLS is always verified)"
        )
    if scheme not in _SCHEMES or not parts.hostname:
        raise UploadError(
            f"unsupported upload URL {strip_credentials(to)!r}",
            hint="use https://HOST/PATH/, sftp://[USER@]HOST[:PORT]/PATH/ or tus+https://HOST/FILES/",
        )
    if parts.password:
        raise UploadError(
            "the upload URL carries a password or token",
            hint="never put secrets in the URL (ps, shell history); use --token-env or --token-command",
        )
    return scheme


def _prepare(
    bundle: Path, url: str, scheme: str, case: str, part_size: int
) -> tuple[UploadState, DestState, PartsPlan]:
    state = load_state(bundle)
    if state is None or state.bundle_name != bundle.name:
        state = new_state(bundle)
    dest = state.destinations.get(url)
    if dest is not None and dest.case != case:
        raise UploadError(
            f"{state_path(bundle).name} records an upload of this bundle to {url} for case {dest.case}, not {case}",
            hint=f"use --case {dest.case}, or move {state_path(bundle).name} aside to start over",
        )
    if scheme in ("https",):
        size = dest.part_size if dest is not None else part_size
        if dest is not None and dest.part_size != part_size:
            log.warning("keeping part size %d of the upload already started (asked: %d)", dest.part_size, part_size)
    else:
        size = max(1, bundle.stat().st_size)
    cached = dest.parts_plan() if dest is not None else None
    plan = cached if cached is not None and state.same_file(bundle) and cached.part_size == size else None
    if plan is None:
        plan = plan_parts(bundle, size)
        if cached is not None and cached.bundle_sha256 != plan.bundle_sha256 and dest is not None:
            started = bool(dest.confirmed) or dest.sent_upto > 0 or dest.remote_offset > 0
            if started:
                raise UploadError(
                    f"{bundle.name} changed since its upload to {url} started",
                    hint=f"upload the original bundle, or move {state_path(bundle).name} aside to start over",
                )
            dest.plan = None
    s = bundle.stat()
    state.bundle_size, state.bundle_mtime_ns, state.bundle_sha256 = s.st_size, s.st_mtime_ns, plan.bundle_sha256
    if dest is None:
        dest = DestState(url=url, scheme=scheme, case=case, part_size=size)
        state.destinations[url] = dest
    dest.plan = plan.to_json()
    state.last_url = url
    return state, dest, plan


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


def upload_bundle(
    bundle: Path,
    *,
    to: str,
    case: str,
    token: Secret | None = None,
    part_size: int = DEFAULT_PART_SIZE,
    ca_bundle: Path | None = None,
    retries: int = 5,
    progress: bool = True,
    known_hosts: Path | None = None,
    accept_new_host_key: bool = False,
    password: Secret | None = None,
    key_file: Path | None = None,
    backoff: float = 1.0,
    timeout: float = 60.0,
    sftp_verify: str = "full",
) -> UploadResult:
    """Upload (or resume uploading) `bundle` to `to` for `case`; raises UploadError, state kept for a re-run.

    https: Basic auth user = case, password = token. sftp: user from the URL or the case; password, else the
    token, or key_file; host key checked against known_hosts (unknown refused unless accept_new_host_key).
    """
    bundle = Path(bundle)
    scheme = _check_args(bundle, to, case, part_size)
    if sftp_verify not in ("full", "size"):
        raise UploadError(f"sftp_verify must be 'full' or 'size', not {sftp_verify!r}")
    with _exclusive(bundle):
        return _upload(
            bundle,
            scheme,
            to,
            case,
            token,
            part_size,
            ca_bundle,
            retries,
            progress,
            known_hosts,
            accept_new_host_key,
            password,
            key_file,
            backoff,
            timeout,
            sftp_verify,
        )


def _upload(
    bundle: Path,
    scheme: str,
    to: str,
    case: str,
    token: Secret | None,
    part_size: int,
    ca_bundle: Path | None,
    retries: int,
    progress: bool,
    known_hosts: Path | None,
    accept_new_host_key: bool,
    password: Secret | None,
    key_file: Path | None,
    backoff: float,
    timeout: float,
    sftp_verify: str,
) -> UploadResult:
    url = strip_credentials(to)
    opts = UploadOptions(
        case=case,
        token=token,
        part_size=part_size,
        ca_bundle=ca_bundle,
        retries=retries,
        backoff=backoff,
        timeout=timeout,
        known_hosts=known_hosts,
        accept_new_host_key=accept_new_host_key,
        password=password,
        key_file=key_file,
        sftp_verify=sftp_verify,
    )
    state, dest, plan = _prepare(bundle, url, scheme, case, part_size)
    skipped = _parts_done(dest, plan)
    counters = RunCounters()
    if dest.complete:
        return _result(dest, plan, counters, skipped)
    dest.runs += 1
    save_state(bundle, state)
    done_bytes = _bytes_done(dest, plan)
    bar = make_progress(progress, plan.bundle_size, done_bytes, f"upload {bundle.name}")
    try:
        with bar:
            if scheme == "https":
                from .http_put import upload_https

                upload_https(bundle, plan, dest, state, opts, bar, counters)
            elif scheme == "sftp":
                from .sftp import upload_sftp

                upload_sftp(bundle, to, plan, dest, state, opts, bar, counters)
            else:
                from .tus import upload_tus

                upload_tus(bundle, plan, dest, state, opts, bar, counters)
    except CollectorError as exc:  # UploadError, and host-key refusals from sftp
        dest.last_error = exc.message
        _finish(bundle, state, dest, counters)
        raise
    except KeyboardInterrupt:
        dest.last_error = "interrupted"
        _finish(bundle, state, dest, counters)
        raise Interrupted(
            f"upload interrupted: {_parts_done(dest, plan)}/{len(plan.parts)} parts on the case",
            hint="re-run the same `collector upload` command: it resumes with what is missing",
        ) from None
    dest.last_error = ""
    _finish(bundle, state, dest, counters)
    return _result(dest, plan, counters, skipped)


def _finish(bundle: Path, state: UploadState, dest: DestState, counters: RunCounters) -> None:
    dest.bytes_sent += counters.bytes_sent
    dest.bytes_resent += counters.bytes_resent
    touch(dest)
    save_state(bundle, state)


def _parts_done(dest: DestState, plan: PartsPlan) -> int:
    if dest.scheme != "https":
        return 1 if dest.complete else 0
    return sum(1 for p in plan.parts if dest.confirmed.get(p.name, {}).get("sha256") == p.sha256)


def _bytes_done(dest: DestState, plan: PartsPlan) -> int:
    if dest.scheme != "https":
        return plan.bundle_size if dest.complete else min(dest.remote_offset, plan.bundle_size)
    return sum(p.size for p in plan.parts if dest.confirmed.get(p.name, {}).get("sha256") == p.sha256)


def _result(dest: DestState, plan: PartsPlan, counters: RunCounters, skipped: int) -> UploadResult:
    return UploadResult(
        url=dest.url,
        parts_total=len(plan.parts),
        parts_sent=_parts_done(dest, plan),
        bytes_sent=counters.bytes_sent,
        bytes_resent=counters.bytes_resent,
        complete=dest.complete,
        parts_skipped=skipped,
        bundle_size=plan.bundle_size,
        attempts_failed=counters.attempts_failed,
        resumed_from=counters.resumed_from or 0,
    )


def upload_status(bundle: Path) -> dict[str, Any]:
    """What the case has received, per destination, from `<bundle>.upload.json` (no network access)."""
    bundle = Path(bundle)
    state = load_state(bundle)
    out: dict[str, Any] = {"bundle": str(bundle), "state_file": str(state_path(bundle)), "destinations": []}
    if state is None:
        out["started"] = False
        return out
    out["started"] = True
    out["bundle_sha256"] = state.bundle_sha256
    out["bundle_size"] = state.bundle_size
    out["last_url"] = state.last_url
    for dest in state.destinations.values():
        plan = dest.parts_plan()
        if plan is None:
            continue
        out["destinations"].append(
            {
                "url": dest.url,
                "scheme": dest.scheme,
                "case": dest.case,
                "parts_total": len(plan.parts),
                "parts_done": _parts_done(dest, plan),
                "bytes_total": plan.bundle_size,
                "bytes_done": _bytes_done(dest, plan),
                "manifest_done": dest.manifest_confirmed or plan.single or dest.scheme != "https",
                "complete": dest.complete,
                "part_size": dest.part_size,
                "bytes_sent_total": dest.bytes_sent,
                "bytes_resent_total": dest.bytes_resent,
                "runs": dest.runs,
                "updated": dest.updated,
                "last_error": dest.last_error,
            }
        )
    return out


def format_status(status: dict[str, Any]) -> str:
    """One line per destination, for `collector upload --status`."""
    if not status.get("started"):
        return f"{status['bundle']}: no upload started"
    lines = []
    for d in status["destinations"]:
        what = "complete" if d["complete"] else "incomplete"
        line = (
            f"{d['url']} (case {d['case']}): {d['parts_done']}/{d['parts_total']} parts, "
            f"{d['bytes_done']}/{d['bytes_total']} bytes received, {what}"
        )
        if d["last_error"] and not d["complete"]:
            line += f"; last error: {d['last_error']}"
        lines.append(line)
    return "\n".join(lines) or f"{status['bundle']}: no upload started"
