"""One kept-alive, verified HTTPS connection to one case server, direct or through the environment's proxy.

Used by the https PUT and tus adapters. Body bytes are counted only once the socket has accepted them, and a
request may ask `Expect: 100-continue`, so a refused token or a wrong path is answered before the body is sent.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import UploadError
from ..secrets import Secret
from .common import make_masker
from .failures import network_error
from .proxy import Proxy, proxy_for, tunnel

BLOCK = 256 * 1024
MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased

    def get(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class HttpsClient:
    """Requests to `https://host:port` over one connection, reopened after any failure.

    `contacted` turns true once a TLS handshake with the server succeeded in this run: a refused connection
    before that means a wrong address (usage error), after it a server restarting (retried).
    """

    def __init__(
        self,
        url: str,
        *,
        ca_bundle: Path | None,
        timeout: float,
        basic_auth: tuple[str, Secret] | None,
        continue_wait: float = 3.0,
    ) -> None:
        u = urlsplit(url)
        self.hostname = u.hostname or ""
        self.port = u.port or 443
        self.host = u.netloc.rpartition("@")[2]
        self.timeout = timeout
        self.continue_wait = continue_wait
        self.contacted = False
        self.expect_ok = True  # cleared once the server shows it ignores Expect: 100-continue
        self.proxy: Proxy | None = proxy_for(self.hostname, self.port)
        try:
            self._ctx = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
        except (OSError, ssl.SSLError) as exc:
            raise UploadError(
                f"cannot load the CA bundle {ca_bundle}: {type(exc).__name__}",
                hint="pass a PEM file with the CA certificates to trust",
            ) from None
        self._auth = ""
        if basic_auth is not None:
            user, secret = basic_auth
            self._auth = "Basic " + base64.b64encode(f"{user}:{secret.reveal()}".encode()).decode()
        self.masker = make_masker(basic_auth[1] if basic_auth else None, self._auth[6:] or None)
        for s in self.proxy.secrets if self.proxy else ():
            self.masker.add(s)
        self._conn: http.client.HTTPSConnection | None = None

    @property
    def proxy_used(self) -> str:
        return self.proxy.shown if self.proxy is not None and self.contacted else ""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPSConnection:
        if self._conn is not None and self._conn.sock is not None:
            return self._conn
        self.close()
        if self.proxy is not None:
            raw = tunnel(self.proxy, self.hostname, self.port, self.timeout)
        else:
            try:
                raw = socket.create_connection((self.hostname, self.port), timeout=min(self.timeout, 30.0))
            except OSError as exc:
                raise network_error(exc, self.host, self.contacted) from None
        try:
            raw.settimeout(self.timeout)
            sock = self._ctx.wrap_socket(raw, server_hostname=self.hostname)
        except OSError as exc:
            raw.close()
            raise network_error(exc, self.host, self.contacted, "TLS handshake") from None
        self.contacted = True
        conn = http.client.HTTPSConnection(self.hostname, self.port, timeout=self.timeout, context=self._ctx)
        conn.sock = sock
        self._conn = conn
        return conn

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | Iterable[bytes] | None = None,
        length: int = 0,
        on_sent: Callable[[int], None] | None = None,
        expect: bool = False,
    ) -> Reply:
        """One request; `body` is bytes or an iterable of blocks totalling `length`. Network failures raise
        classified errors (Retryable or CollectorError) and drop the connection."""
        what = f"{method} {path.rsplit('/', 1)[-1] or path}"
        try:
            return self._request(method, path, headers or {}, body, length, on_sent, expect)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise network_error(exc, self.host, self.contacted, what) from None

    def _request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | Iterable[bytes] | None,
        length: int,
        on_sent: Callable[[int], None] | None,
        expect: bool,
    ) -> Reply:
        conn = self._connection()
        if isinstance(body, bytes):
            length = len(body)
        conn.putrequest(method, path, skip_accept_encoding=True)
        if self._auth:
            conn.putheader("Authorization", self._auth)
        conn.putheader("User-Agent", "collector-upload/1")
        for k, v in headers.items():
            conn.putheader(k, v)
        if body is not None or method in ("PUT", "POST", "PATCH"):
            conn.putheader("Content-Length", str(length))
        expect = expect and self.expect_ok and length > 0
        if expect:
            conn.putheader("Expect", "100-continue")
        conn.endheaders()
        if expect:
            early = self._await_continue(conn)
            if early is not None:
                self.close()  # the body was never sent: this connection cannot carry another request
                return early
        if body is not None:
            blocks = (body[i : i + BLOCK] for i in range(0, len(body), BLOCK)) if isinstance(body, bytes) else body
            for block in blocks:
                conn.send(block)  # sendall: returns once the socket accepted every byte
                if on_sent is not None:
                    on_sent(len(block))
        resp = conn.getresponse()
        reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()})
        resp.read(MAX_ERROR_BODY)
        if not resp.isclosed() or resp.will_close:
            self.close()
        return reply

    def _await_continue(self, conn: http.client.HTTPSConnection) -> Reply | None:
        """None to send the body (100 Continue, or no answer in time); else the server's early final status."""
        sock = conn.sock
        assert sock is not None
        # a blocking read with a short timeout, not select(): TLS 1.3 session tickets make the socket readable
        # without any HTTP byte to read
        sock.settimeout(self.continue_wait)
        try:
            first = sock.recv(1)
        except TimeoutError:
            self.expect_ok = False  # it waits for the body: stop asking (and waiting) on later requests
            return None
        finally:
            sock.settimeout(self.timeout)
        if not first:
            raise http.client.RemoteDisconnected("closed before answering")
        fp = sock.makefile("rb", buffering=0)
        try:
            line = first + _readline(fp)
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                raise http.client.BadStatusLine(line.decode("latin-1", "replace")[:80])
            status = int(parts[1])
            headers: dict[str, str] = {}
            for _ in range(101):
                raw = _readline(fp)
                if raw in (b"\r\n", b"\n", b""):
                    break
                name, sep, value = raw.decode("latin-1").partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            else:
                raise http.client.HTTPException("more than 100 header lines")
        finally:
            fp.close()
        if status == 100:
            return None
        if 100 < status < 200:
            raise http.client.HTTPException(f"unexpected interim response {status}")
        return Reply(status, headers)


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
