"""HTTPS PUT of a bundle as numbered parts (Cisco CXD style: Basic auth with case number and upload token).

Each part is one PUT streamed from a file slice; a part the server did not confirm (2xx) is re-sent whole.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

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
    """PUT requests to one base URL over one kept-alive, verified TLS connection; `put()` classifies outcomes.

    Built on http.client rather than requests for one reason: `Expect: 100-continue`. The headers go first and
    the body only after the server's "100 Continue", so a refused token (401/403) or a bad path comes back
    before a 64 MiB part crosses a slow link. A server that ignores Expect gets the body after `continue_wait`.
    """

    def __init__(
        self,
        base_url: str,
        case: str,
        token: Secret,
        ca_bundle: Path | None,
        timeout: float,
        continue_wait: float = 3.0,
    ) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        u = urlsplit(base_url)
        self.base_url = base_url
        self.host = u.netloc
        self._hostname = u.hostname or ""
        self._port = u.port or 443
        self._path = u.path or "/"
        self._timeout = timeout
        self._continue_wait = continue_wait
        self._expect = True  # cleared once the server shows it ignores Expect: 100-continue
        try:
            self._ctx = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
        except (OSError, ssl.SSLError) as exc:
            raise UploadError(
                f"cannot load the CA bundle {ca_bundle}: {type(exc).__name__}",
                hint="pass a PEM file with the CA certificates to trust",
            ) from None
        self._auth = "Basic " + base64.b64encode(f"{case}:{token.reveal()}".encode()).decode()
        self.masker: Masker = make_masker(token, self._auth[6:])
        self._conn: http.client.HTTPSConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def url_for(self, name: str) -> str:
        return self.base_url + quote(name)

    def _connection(self) -> http.client.HTTPSConnection:
        if self._conn is None:
            self._conn = http.client.HTTPSConnection(
                self._hostname, self._port, timeout=self._timeout, context=self._ctx
            )
        return self._conn

    def put(self, name: str, body: PartReader | bytes, sha256: str) -> int:
        try:
            status = self._put(name, body, sha256)
        except ssl.SSLCertVerificationError:
            self.close()
            raise UploadError(
                f"TLS verification of {self.host} failed: the server certificate is not trusted",
                hint="pass --ca-bundle FILE with the CA that signed the server's certificate; "
                "there is no insecure mode",
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Retryable(f"PUT {name} to {self.host} failed: {type(exc).__name__}") from None
        log.debug("PUT %s%s -> HTTP %d", self.host, self._path + name, status)
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

    def _put(self, name: str, body: PartReader | bytes, sha256: str) -> int:
        conn = self._connection()
        if conn.sock is None:
            conn.connect()
        digest = base64.b64encode(bytes.fromhex(sha256)).decode()
        conn.putrequest("PUT", self._path + quote(name), skip_accept_encoding=True)
        conn.putheader("Authorization", self._auth)
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("Content-Digest", f"sha-256=:{digest}:")
        conn.putheader("X-Content-SHA256", sha256)
        conn.putheader("User-Agent", "collector-upload/1")
        expect = self._expect and len(body) > 0
        if expect:
            conn.putheader("Expect", "100-continue")
        conn.endheaders()
        if expect:
            early = self._await_continue(conn)
            if early is not None:
                self.close()  # the body was never sent: this connection cannot carry another request
                return early
        if isinstance(body, bytes):
            conn.send(body)
        else:
            for block in body:
                conn.send(block)
        resp = conn.getresponse()
        resp.read()
        if resp.will_close:
            self.close()
        return resp.status

    def _await_continue(self, conn: http.client.HTTPSConnection) -> int | None:
        """None to send the body (100 Continue, or no answer in time); else the server's early final status."""
        sock = conn.sock
        assert sock is not None
        # a blocking read with a short timeout, not select(): TLS 1.3 session tickets make the socket readable
        # without any HTTP byte to read
        sock.settimeout(self._continue_wait)
        try:
            first = sock.recv(1)
        except TimeoutError:
            self._expect = False  # it waits for the body: stop asking (and waiting) on later parts
            return None
        finally:
            sock.settimeout(self._timeout)
        if not first:
            raise http.client.RemoteDisconnected("closed before answering")
        fp = sock.makefile("rb", buffering=0)
        try:
            line = first + _readline(fp)
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                raise http.client.BadStatusLine(line.decode("latin-1", "replace")[:80])
            status = int(parts[1])
            while _readline(fp) not in (b"\r\n", b"\n", b""):
                pass  # interim or final headers: nothing in them is needed
        finally:
            fp.close()
        if status == 100:
            return None
        if 100 < status < 200:
            raise http.client.HTTPException(f"unexpected interim response {status}")
        return status


def _readline(fp: Any) -> bytes:
    """One header line, read byte by byte so nothing after it is consumed (the connection may go on)."""
    out = bytearray()
    while len(out) < 8192:
        ch = fp.read(1)
        if not ch:
            break
        out += ch
        if ch == b"\n":
            break
    return bytes(out)


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
