"""HTTPS PUT of a bundle the way case drop boxes take it (Cisco CXD: `https://<host>/home/<file>`, Basic auth with
the case number as user and the upload token as password).

Default: one PUT of the whole bundle, re-sent whole after a failure (such servers keep no partial PUT). On request
(`part_size`): numbered parts `<bundle>.part0001`..., each its own PUT, then `<bundle>.parts.json`.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote, urlsplit

from ..errors import UploadError
from .common import Adapter, Job, Meter, log
from .failures import status_error
from .https_conn import HttpsClient
from .parts import Part, PartReader, manifest_bytes


class HttpPutAdapter(Adapter):
    def __init__(self, job: Job) -> None:
        super().__init__(job)
        opts = job.opts
        if opts.token is None:  # checked by the caller too; kept so the adapter cannot send without auth
            raise UploadError("an upload token is needed for https:// uploads", hint="pass --token-env")
        base = job.dest.url if job.dest.url.endswith("/") else job.dest.url + "/"
        self.base_url = base
        self._dir = urlsplit(base).path or "/"
        self.client = HttpsClient(
            base, ca_bundle=opts.ca_bundle, timeout=opts.timeout, basic_auth=(opts.case, opts.token)
        )
        self.masker = self.client.masker
        self.mode = "single PUT" if job.plan.single else f"{len(job.plan.parts)} parts"
        if job.plan.single:
            self.resume_hint = (
                "re-run the same `collector upload` command: it sends the bundle again, whole "
                "(the server keeps no partial PUT)"
            )

    @property
    def proxy(self) -> str:
        return self.client.proxy_used

    @property
    def label(self) -> str:
        return self.base_url + quote(self.job.plan.bundle_name)

    def open(self) -> None:
        return None  # the client connects on the first request (and again after any failure)

    def offset(self) -> int:
        """The bytes of the confirmed parts at the start of the bundle."""
        for part in self.job.plan.parts:
            if not self._confirmed(part):
                return part.offset
        return self.job.plan.bundle_size

    def _confirmed(self, part: Part) -> bool:
        return self.job.dest.confirmed.get(part.name, {}).get("sha256") == part.sha256

    def send(self, offset: int, meter: Meter) -> int:
        part = next(p for p in self.job.plan.parts if p.offset == offset)
        with PartReader(self.job.bundle, part.offset, part.size) as reader:
            status = self._put(part.name, reader, part.size, part.sha256, meter)
            if reader.sent != part.size or reader.hexdigest() != part.sha256:
                raise UploadError(
                    f"{self.job.bundle.name} changed on disk while {part.name} was being sent",
                    hint="bundles must not change once built; re-create it or restore the original",
                )
        self.job.dest.confirmed[part.name] = {"size": part.size, "sha256": part.sha256, "status": status}
        log.info("%s confirmed (HTTP %d)", part.name, status)
        return self.offset()

    def finish(self) -> None:
        plan, dest = self.job.plan, self.job.dest
        if plan.single or dest.manifest_confirmed:
            return
        body = manifest_bytes(plan)
        status = self._put(plan.manifest_name, body, len(body), hashlib.sha256(body).hexdigest(), None)
        dest.manifest_confirmed = True
        log.info("parts manifest %s confirmed (HTTP %d)", plan.manifest_name, status)

    def _put(self, name: str, body: PartReader | bytes, size: int, sha256: str, on_sent: Meter | None) -> int:
        digest = base64.b64encode(bytes.fromhex(sha256)).decode()
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Digest": f"sha-256=:{digest}:",
            "X-Content-SHA256": sha256,
        }
        reply = self.client.request(
            "PUT",
            self._dir + quote(name),
            headers,
            body,
            length=size,
            on_sent=on_sent.sent if on_sent is not None else None,
            expect=True,
        )
        log.debug("PUT %s%s -> HTTP %d", self.client.host, self._dir + quote(name), reply.status)
        failure = status_error(reply.status, f"PUT {name}", self.client.host, reply.get("location"))
        if failure is not None:
            raise failure
        return reply.status

    def close(self) -> None:
        self.client.close()
