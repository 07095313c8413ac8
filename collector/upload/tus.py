"""tus 1.0 upload (tus:// or tus+https://, always over verified TLS): creation, HEAD offset, PATCH with checksum.

Chunks of `part_size` each carry `Upload-Checksum: sha1 ...` when the server lists the checksum extension, so a
chunk cut short is discarded by the server and re-sent from the offset HEAD reports; the upload URL is kept in
the state so a later run continues the same upload.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from ..errors import UploadError
from ..secrets import Masker
from .common import Retryable, RunCounters, UploadOptions, log, make_masker, retry_call
from .http_put import RETRY_STATUS, _is_cert_failure
from .parts import PartReader, PartsPlan
from .progress import NullProgress
from .state import DestState, UploadState, save_state, touch

TUS_VERSION = "1.0.0"


def tus_endpoint(url: str) -> str:
    """`tus://h/files/` and `tus+https://h/files/` both mean `https://h/files/` (no clear-text variant)."""
    u = urlsplit(url)
    return urlunsplit(("https", u.netloc, u.path or "/", u.query, ""))


def _meta(**kv: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in kv.items())


class TusClient:
    def __init__(self, endpoint: str, opts: UploadOptions) -> None:
        self.endpoint = endpoint
        self.host = urlsplit(endpoint).netloc
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Tus-Resumable"] = TUS_VERSION
        if opts.token is not None:
            self.session.auth = (opts.case, opts.token.reveal())
            basic = base64.b64encode(f"{opts.case}:{opts.token.reveal()}".encode()).decode()
            self.masker: Masker = make_masker(opts.token, basic)
        else:
            self.masker = make_masker()
        self.verify: str | bool = str(opts.ca_bundle) if opts.ca_bundle else True
        self.timeout = (min(opts.timeout, 30.0), opts.timeout)
        self.checksum = False
        self.discovered = False

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, url: str, **kw: object) -> requests.Response:
        try:
            resp = self.session.request(method, url, verify=self.verify, timeout=self.timeout, **kw)  # type: ignore[arg-type]
        except requests.exceptions.SSLError as exc:
            if _is_cert_failure(exc):
                raise UploadError(
                    f"TLS verification of {self.host} failed: the server certificate is not trusted",
                    hint="pass --ca-bundle FILE with the CA that signed the server's certificate; "
                    "there is no insecure mode",
                ) from None
            raise Retryable(f"TLS connection to {self.host} broke: {type(exc).__name__}") from None
        except requests.exceptions.RequestException as exc:
            raise Retryable(f"{method} to {self.host} failed: {type(exc).__name__}") from None
        if resp.status_code in (401, 403):
            resp.close()
            raise UploadError(
                f"the case refused the token (HTTP {resp.status_code} from {self.host})",
                hint="check the case number (--case) and the upload token; nothing was retried",
            )
        if resp.status_code in RETRY_STATUS:
            resp.close()
            raise Retryable(f"{self.host} answered HTTP {resp.status_code} to {method}")
        return resp

    def discover(self) -> None:
        resp = self.request("OPTIONS", self.endpoint)
        resp.close()
        ext = {e.strip() for e in resp.headers.get("Tus-Extension", "").split(",")}
        algos = {a.strip().lower() for a in resp.headers.get("Tus-Checksum-Algorithm", "").split(",")}
        self.checksum = "checksum" in ext and "sha1" in algos
        self.discovered = True
        if resp.ok and "creation" not in ext:
            raise UploadError(f"the tus server {self.host} does not offer the creation extension")

    def create(self, plan: PartsPlan, case: str) -> str:
        headers = {
            "Upload-Length": str(plan.bundle_size),
            "Upload-Metadata": _meta(filename=plan.bundle_name, case=case, sha256=plan.bundle_sha256),
        }
        resp = self.request("POST", self.endpoint, headers=headers)
        resp.close()
        if resp.status_code == 412:
            raise UploadError(f"{self.host} does not speak tus {TUS_VERSION}")
        if resp.status_code == 413:
            raise UploadError(f"{self.host} refuses a bundle of {plan.bundle_size} bytes (HTTP 413)")
        location = resp.headers.get("Location")
        if resp.status_code != 201 or not location:
            raise UploadError(f"{self.host} answered HTTP {resp.status_code} to the tus creation request")
        return urljoin(self.endpoint, location)

    def offset(self, upload_url: str) -> int | None:
        """The server's offset, or None when the upload is gone (expired or never existed)."""
        resp = self.request("HEAD", upload_url, headers={"Cache-Control": "no-store"})
        resp.close()
        if resp.status_code in (404, 410):
            return None
        if not resp.ok or "Upload-Offset" not in resp.headers:
            raise UploadError(f"{self.host} answered HTTP {resp.status_code} to HEAD of the upload")
        return int(resp.headers["Upload-Offset"])

    def patch(self, upload_url: str, offset: int, body: PartReader, sha1: str) -> int:
        headers = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}
        if self.checksum:
            headers["Upload-Checksum"] = f"sha1 {base64.b64encode(bytes.fromhex(sha1)).decode()}"
        resp = self.request("PATCH", upload_url, data=body, headers=headers)
        resp.close()
        if resp.status_code == 409:
            raise Retryable("offset mismatch (HTTP 409): asking the server again")
        if resp.status_code == 460:
            raise Retryable("the server found a checksum mismatch (HTTP 460): chunk sent again")
        if resp.status_code in (404, 410):
            raise Retryable(f"the upload disappeared on the server (HTTP {resp.status_code})")
        if resp.status_code != 204 or "Upload-Offset" not in resp.headers:
            raise UploadError(f"{self.host} answered HTTP {resp.status_code} to PATCH")
        return int(resp.headers["Upload-Offset"])


def _sha1(bundle: Path, offset: int, size: int) -> str:
    h = hashlib.sha1()  # noqa: S324 - sha1 is the algorithm the tus checksum extension requires
    with PartReader(bundle, offset, size) as r:
        for block in r:
            h.update(block)
    return h.hexdigest()


def upload_tus(
    bundle: Path,
    plan: PartsPlan,
    dest: DestState,
    state: UploadState,
    opts: UploadOptions,
    progress: NullProgress,
    counters: RunCounters,
) -> None:
    client = TusClient(tus_endpoint(dest.url), opts)
    total = plan.bundle_size
    chunk = opts.part_size
    shown = [min(dest.remote_offset, total)]

    def attempt() -> None:
        if not client.discovered:
            client.discover()
        offset = client.offset(dest.remote_path) if dest.remote_path else None
        if offset is None:
            if dest.remote_path:
                log.warning("tus upload %s is gone on the server; starting a new one", dest.remote_path)
            dest.remote_path = client.create(plan, opts.case)
            offset = 0
            touch(dest)
            save_state(bundle, state)
        if offset > total:
            raise UploadError(f"the tus server reports {offset} bytes for a {total}-byte bundle")
        if counters.resumed_from is None:
            counters.resumed_from = offset
        progress.rewind(shown[0] - offset)
        shown[0] = offset
        while offset < total:
            size = min(chunk, total - offset)
            sha1 = _sha1(bundle, offset, size)
            start = offset
            with PartReader(bundle, start, size, on_read=progress.advance) as reader:
                try:
                    offset = client.patch(dest.remote_path, start, reader, sha1)
                finally:
                    counters.bytes_sent += reader.sent
                    counters.bytes_resent += max(0, min(start + reader.sent, dest.sent_upto) - start)
                    dest.sent_upto = max(dest.sent_upto, start + reader.sent)
                    shown[0] = start + reader.sent
            dest.remote_offset = offset
            touch(dest)
            save_state(bundle, state)
            progress.rewind(shown[0] - offset)
            shown[0] = offset
        dest.complete = True
        touch(dest)
        save_state(bundle, state)

    try:
        retry_call(
            attempt,
            retries=opts.retries,
            backoff=opts.backoff,
            what=f"tus upload of {plan.bundle_name} to {client.host}",
            masker=client.masker,
            counters=counters,
        )
    finally:
        client.close()
