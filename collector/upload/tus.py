"""tus 1.0 upload (tus:// or tus+https://, always over verified TLS): creation, HEAD offset, PATCH with checksum.

Chunks of `part_size` each carry `Upload-Checksum: sha1 ...` when the server lists the checksum extension, so a
chunk cut short is discarded by the server and re-sent from the offset HEAD reports; the upload URL is kept in
the state so a later run continues the same upload.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit, urlunsplit

from ..errors import UploadError
from .common import Adapter, Job, Meter, Retryable, log
from .failures import status_error
from .https_conn import HttpsClient, Reply
from .parts import DEFAULT_PART_SIZE, PartReader

TUS_VERSION = "1.0.0"


def tus_endpoint(url: str) -> str:
    """`tus://h/files/` and `tus+https://h/files/` both mean `https://h/files/` (no clear-text variant)."""
    u = urlsplit(url)
    return urlunsplit(("https", u.netloc, u.path or "/", u.query, ""))


def _meta(**kv: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in kv.items())


def _sha1(job: Job, offset: int, size: int) -> str:
    h = hashlib.sha1()  # noqa: S324 - sha1 is the algorithm the tus checksum extension requires
    with PartReader(job.bundle, offset, size) as r:
        for block in r:
            h.update(block)
    return h.hexdigest()


class TusAdapter(Adapter):
    mode = "tus"

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        opts = job.opts
        self.endpoint = tus_endpoint(job.dest.url)
        auth = (opts.case, opts.token) if opts.token is not None else None
        self.client = HttpsClient(self.endpoint, ca_bundle=opts.ca_bundle, timeout=opts.timeout, basic_auth=auth)
        self.masker = self.client.masker
        self.chunk = opts.part_size or DEFAULT_PART_SIZE
        self.checksum = False
        self.discovered = False

    @property
    def proxy(self) -> str:
        return self.client.proxy_used

    @property
    def label(self) -> str:
        return self.endpoint

    def _call(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes | PartReader | None = None,
        length: int = 0,
        on_sent: Callable[[int], None] | None = None,
    ) -> Reply:
        u = urlsplit(url)
        path = u.path + (f"?{u.query}" if u.query else "")
        headers = {"Tus-Resumable": TUS_VERSION, **(headers or {})}
        reply = self.client.request(method, path, headers, body, length=length, on_sent=on_sent)
        log.debug("%s %s -> HTTP %d", method, path, reply.status)
        return reply

    def _check(self, reply: Reply, what: str, also_ok: tuple[int, ...] = ()) -> None:
        if reply.status in also_ok:
            return
        if reply.status == 412:
            raise UploadError(f"{self.client.host} does not speak tus {TUS_VERSION}", hint="check --to")
        failure = status_error(reply.status, what, self.client.host, reply.get("location"))
        if failure is not None:
            raise failure

    def open(self) -> None:
        if self.discovered:
            return
        reply = self._call("OPTIONS", self.endpoint)
        self._check(reply, "OPTIONS")
        ext = {e.strip() for e in (reply.get("tus-extension") or "").split(",")}
        algos = {a.strip().lower() for a in (reply.get("tus-checksum-algorithm") or "").split(",")}
        if "creation" not in ext:
            raise UploadError(f"the tus server {self.client.host} does not offer the creation extension")
        self.checksum = "checksum" in ext and "sha1" in algos
        self.discovered = True

    def offset(self) -> int:
        dest = self.job.dest
        if dest.remote_path:
            reply = self._call("HEAD", dest.remote_path, {"Cache-Control": "no-store"})
            if reply.status not in (404, 410):
                self._check(reply, "HEAD of the upload")
                value = reply.get("upload-offset") or ""
                if not value.isdigit() or int(value) > self.job.plan.bundle_size:
                    raise UploadError(f"{self.client.host} reports no valid Upload-Offset for the upload")
                return int(value)
            log.warning("tus upload %s is gone on the server; starting a new one", dest.remote_path)
        dest.remote_path = self._create()
        self.job.save()
        return 0

    def _create(self) -> str:
        plan = self.job.plan
        headers = {
            "Upload-Length": str(plan.bundle_size),
            "Upload-Metadata": _meta(filename=plan.bundle_name, case=self.job.opts.case, sha256=plan.bundle_sha256),
        }
        reply = self._call("POST", self.endpoint, headers, body=b"")
        self._check(reply, "the tus creation request (POST)")
        location = urljoin(self.endpoint, reply.get("location") or "")
        loc, end = urlsplit(location), urlsplit(self.endpoint)
        if reply.status != 201 or not reply.get("location") or (loc.scheme, loc.netloc) != (end.scheme, end.netloc):
            raise UploadError(f"{self.client.host} answered HTTP {reply.status} to the tus creation request "
                              "without an upload URL on the same server")
        return location

    def send(self, offset: int, meter: Meter) -> int:
        size = min(self.chunk, self.job.plan.bundle_size - offset)
        headers = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}
        if self.checksum:
            digest = base64.b64encode(bytes.fromhex(_sha1(self.job, offset, size))).decode()
            headers["Upload-Checksum"] = f"sha1 {digest}"
        with PartReader(self.job.bundle, offset, size) as reader:
            reply = self._call("PATCH", self.job.dest.remote_path, headers, body=reader, length=size,
                               on_sent=meter.sent)
        if reply.status == 409:
            raise Retryable("offset mismatch (HTTP 409): asking the server again")
        if reply.status == 460:
            raise Retryable("the server found a checksum mismatch (HTTP 460): chunk sent again")
        if reply.status in (404, 410):
            raise Retryable(f"the upload disappeared on the server (HTTP {reply.status})")
        self._check(reply, "PATCH")
        value = reply.get("upload-offset") or ""
        if not value.isdigit() or not offset < int(value) <= self.job.plan.bundle_size:
            raise UploadError(f"{self.client.host} answered HTTP {reply.status} to PATCH without a valid new offset")
        return int(value)

    def close(self) -> None:
        self.client.close()
