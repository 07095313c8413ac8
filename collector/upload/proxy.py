"""The HTTP proxy for https and tus uploads, from HTTPS_PROXY/https_proxy and NO_PROXY/no_proxy, and its CONNECT
tunnel. TLS runs inside the tunnel, end to end with the case server; proxy credentials come only from the URL.
"""

from __future__ import annotations

import base64
import http.client
import socket
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import requests.utils

from ..errors import UploadError, UsageError
from .common import Retryable, strip_credentials
from .failures import network_error

PROXY_HINT = "set HTTPS_PROXY=http://[USER:PASSWORD@]PROXY:PORT, or name the case server in NO_PROXY"


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    shown: str  # http://host:port, never the credentials
    authorization: str = field(default="", repr=False)  # "Basic ...", a secret
    secrets: tuple[str, ...] = field(default=(), repr=False)  # to mask: password and the Basic blob

    def __str__(self) -> str:
        return self.shown


def parse_proxy(url: str) -> Proxy:
    """`http://[user:password@]host[:port]` (a bare `host:port` means http); anything else is a usage error."""
    raw = url.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        u = urlsplit(raw)
        port = u.port
    except ValueError:
        port = None
        u = None
    if u is None or not u.hostname:
        raise UsageError("the proxy URL in HTTPS_PROXY is not valid", hint=PROXY_HINT) from None
    if u.scheme.lower() != "http":
        shown = u.scheme if u.scheme.isalnum() else "?"
        raise UsageError(
            f"proxy scheme {shown}:// in HTTPS_PROXY is not supported",
            hint="use an http:// proxy URL (the tunnel to the case server is TLS end to end either way); "
            + PROXY_HINT,
        )
    port = port or 80
    shown = strip_credentials(f"http://{u.netloc}")
    if u.port is None:
        shown += f":{port}"
    if u.username is None:
        return Proxy(u.hostname, port, shown)
    user, password = unquote(u.username), unquote(u.password or "")
    blob = base64.b64encode(f"{user}:{password}".encode()).decode()
    return Proxy(u.hostname, port, shown, "Basic " + blob, tuple(s for s in (password, blob) if s))


def proxy_for(host: str, port: int) -> Proxy | None:
    """The proxy for an https connection to host:port, as the environment says (None: direct).

    NO_PROXY entries are host names, domain suffixes, IP addresses or CIDR ranges (requests' rules), or `*`.
    """
    url = urllib.request.getproxies_environment().get("https")
    if not url or requests.utils.should_bypass_proxies(f"https://{_authority(host, port)}/", no_proxy=None):
        return None
    return parse_proxy(url)


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def tunnel(proxy: Proxy, host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to host:port through the proxy (CONNECT); raises a classified error if refused."""
    where = f"the proxy {proxy.shown} (from HTTPS_PROXY)"
    try:
        sock = socket.create_connection((proxy.host, proxy.port), timeout=min(timeout, 30.0))
    except OSError as exc:
        raise network_error(exc, where, contacted=False) from None
    target = _authority(host, port)
    try:
        head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: collector-upload/1\r\n"
        if proxy.authorization:
            head += f"Proxy-Authorization: {proxy.authorization}\r\n"
        sock.sendall((head + "\r\n").encode("ascii"))
        resp = http.client.HTTPResponse(sock, method="CONNECT")
        resp.begin()
        status = resp.status
        resp.close()  # its reader only: the socket stays open for the tunnel
    except (OSError, http.client.HTTPException) as exc:
        sock.close()
        raise network_error(exc, where, contacted=True, what=f"CONNECT {target}") from None
    if status == 200:
        return sock
    sock.close()
    raise _refusal(status, where, target)


def _refusal(status: int, where: str, target: str) -> Exception:
    if status in (401, 407):  # 407 by the standard; tinyproxy answers a wrong password with 401
        return UploadError(
            f"{where} refused the proxy credentials (HTTP {status})",
            hint="check USER:PASSWORD in HTTPS_PROXY (percent-encode special characters); nothing was retried",
        )
    if status in (500, 502, 503, 504):  # the proxy could not reach the server (tinyproxy says 500): transient
        return Retryable(f"{where} could not reach {target} (HTTP {status})")
    return UploadError(
        f"{where} refused to open a tunnel to {target} (HTTP {status})",
        hint="the proxy must allow CONNECT to this host and port; or list the host in NO_PROXY",
    )
