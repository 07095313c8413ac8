"""HTTPS PUT of a bundle as numbered parts (Cisco CXD style: Basic auth with case number and upload token).

Each part is one PUT streamed from a file slice; a part the server did not confirm (2xx) is re-sent whole.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import requests

from ..errors import UploadError
from ..secrets import Masker, Secret
from .common import Retryable, RunCounters, UploadOptions, log, make_masker, retry_call
from .parts import Part, PartReader, PartsPlan, manifest_bytes
from .progress import NullProgress
from .state import DestState, UploadState, save_state, touch

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


def _is_cert_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(cur) or "certificate verify failed" in str(cur):
            return True
        for arg in getattr(cur, "args", ()):
            if isinstance(arg, BaseException) and id(arg) not in seen and _is_cert_failure(arg):
                return True
        cur = cur.__cause__ or cur.__context__
    return False


class HttpPutSender:
    """One requests.Session against one base URL; `put()` classifies every outcome."""

    def __init__(self, base_url: str, case: str, token: Secret, ca_bundle: Path | None, timeout: float) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self.host = urlsplit(base_url).netloc
        self._session = requests.Session()
        self._session.auth = (case, token.reveal())
        self._session.trust_env = False  # no proxies or .netrc from the environment; verification stays on
        self._verify: str | bool = str(ca_bundle) if ca_bundle else True
        self._timeout = (min(timeout, 30.0), timeout)
        basic = base64.b64encode(f"{case}:{token.reveal()}".encode()).decode()
        self.masker: Masker = make_masker(token, basic)

    def close(self) -> None:
        self._session.close()

    def url_for(self, name: str) -> str:
        return self.base_url + quote(name)

    def put(self, name: str, body: PartReader | bytes, sha256: str) -> int:
        digest = base64.b64encode(bytes.fromhex(sha256)).decode()
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Digest": f"sha-256=:{digest}:",
            "X-Content-SHA256": sha256,
        }
        try:
            resp = self._session.put(
                self.url_for(name), data=body, headers=headers, verify=self._verify, timeout=self._timeout
            )
        except requests.exceptions.SSLError as exc:
            if _is_cert_failure(exc):
                raise UploadError(
                    f"TLS verification of {self.host} failed: the server certificate is not trusted",
                    hint="pass --ca-bundle FILE with the CA that signed the server's certificate; "
                    "there is no insecure mode",
                ) from None
            raise Retryable(f"TLS connection to {self.host} broke: {type(exc).__name__}") from None
        except requests.exceptions.InvalidURL as exc:
            raise UploadError(f"bad upload URL: {self.masker.text(str(exc))}") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise Retryable(f"connection to {self.host} failed: {type(exc).__name__}") from None
        except requests.exceptions.RequestException as exc:
            raise Retryable(f"request to {self.host} failed: {type(exc).__name__}") from None
        status = resp.status_code
        resp.close()
        if 200 <= status < 300:
            return status
        if status in (401, 403):
            raise UploadError(
                f"the case refused the token (HTTP {status} from {self.host})",
                hint="check the case number (--case) and the upload token; nothing was retried",
            )
        if status in RETRY_STATUS:
            raise Retryable(f"{self.host} answered HTTP {status} to PUT {name}")
        raise UploadError(
            f"{self.host} answered HTTP {status} to PUT {name}",
            hint="check the upload URL (--to); the state is kept, re-run once it is fixed",
        )


def upload_https(
    bundle: Path,
    plan: PartsPlan,
    dest: DestState,
    state: UploadState,
    opts: UploadOptions,
    progress: NullProgress,
    counters: RunCounters,
    sender_factory: Callable[[], HttpPutSender] | None = None,
) -> None:
    """Send every part not yet confirmed, then the parts manifest; the state is saved after each confirmation."""
    if opts.token is None:
        raise UploadError("an upload token is needed for https:// uploads", hint="pass --token-env or --token-command")
    sender = (
        sender_factory()
        if sender_factory
        else HttpPutSender(dest.url, opts.case, opts.token, opts.ca_bundle, opts.timeout)
    )
    try:
        for part in plan.parts:
            done = dest.confirmed.get(part.name)
            if done and done.get("sha256") == part.sha256:
                continue
            status = _send_part(bundle, part, sender, opts, progress, counters, dest)
            dest.confirmed[part.name] = {"size": part.size, "sha256": part.sha256, "status": status}
            touch(dest)
            save_state(bundle, state)
            log.info("part %s confirmed (HTTP %d)", part.name, status)
        if not plan.single and not dest.manifest_confirmed:
            body = manifest_bytes(plan)
            sha = hashlib.sha256(body).hexdigest()

            def _send_manifest() -> int:
                try:
                    return sender.put(plan.manifest_name, body, sha)
                finally:
                    counters.bytes_sent += len(body)

            try:
                status = retry_call(
                    _send_manifest,
                    retries=opts.retries,
                    backoff=opts.backoff,
                    what=f"PUT {plan.manifest_name}",
                    masker=sender.masker,
                    counters=counters,
                )
            except UploadError:
                counters.bytes_resent += len(body)
                raise
            dest.manifest_confirmed = True
            log.info("parts manifest %s confirmed (HTTP %d)", plan.manifest_name, status)
        dest.complete = True
        touch(dest)
        save_state(bundle, state)
    finally:
        sender.close()


def _send_part(
    bundle: Path,
    part: Part,
    sender: HttpPutSender,
    opts: UploadOptions,
    progress: NullProgress,
    counters: RunCounters,
    dest: DestState,
) -> int:
    def attempt() -> int:
        with PartReader(bundle, part.offset, part.size, on_read=progress.advance) as reader:
            ok = False
            try:
                status = sender.put(part.name, reader, part.sha256)
                ok = True
            finally:
                counters.bytes_sent += reader.sent
                if not ok:
                    counters.bytes_resent += reader.sent
                    progress.rewind(reader.sent)
            if reader.sent != part.size or reader.hexdigest() != part.sha256:
                raise UploadError(
                    f"{bundle.name} changed on disk while {part.name} was being sent",
                    hint="bundles must not change once built; re-create it or restore the original",
                )
            return status

    return retry_call(
        attempt,
        retries=opts.retries,
        backoff=opts.backoff,
        what=f"PUT {part.name}",
        masker=sender.masker,
        counters=counters,
    )
