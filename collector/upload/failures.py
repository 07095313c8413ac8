"""Which upload failures are retried: one table for the HTTP statuses and network errors of every adapter.

usage (exit 2, at once): wrong host, port, scheme or path (unresolvable, refused before any contact, 3xx, 404,
405 ...); auth (exit 22, at once): 401/403/407/511; transient (retried, bounded): drops, resets, timeouts,
408/425/429 and 5xx; anything else is final (exit 22) with the server's status named.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from enum import Enum

from ..errors import CollectorError, UploadError, UsageError
from .common import Retryable, strip_credentials


class Kind(Enum):
    OK = "ok"
    USAGE = "usage"  # exit 2 at once
    AUTH = "auth"  # exit 22 at once
    RETRY = "retry"  # retried, bounded
    FINAL = "final"  # exit 22 at once


USAGE_STATUS = frozenset({404, 405, 410, 414, 421, 501})
AUTH_STATUS = frozenset({401, 403, 407, 511})
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "PACKET_LENGTH_TOO_LONG"})
URL_HINT = "check the upload URL (--to), e.g. https://cxd.cisco.com/home/"


def status_kind(status: int) -> Kind:
    """The class of an HTTP final status (what the server said about our request)."""
    if 200 <= status < 300:
        return Kind.OK
    if 300 <= status < 400 or status in USAGE_STATUS:
        return Kind.USAGE
    if status in AUTH_STATUS:
        return Kind.AUTH
    if status in RETRY_STATUS:
        return Kind.RETRY
    return Kind.FINAL


def status_error(status: int, what: str, host: str, location: str | None = None) -> Exception | None:
    """None for 2xx; else the exception to raise for `what` (e.g. "PUT x.tar.gz") answered with `status`."""
    kind = status_kind(status)
    said = f"{host} answered HTTP {status} to {what}"
    if kind is Kind.OK:
        return None
    if kind is Kind.RETRY:
        return Retryable(said)
    if kind is Kind.AUTH:
        if status == 511:
            return UploadError(f"{said}: the network wants a login first", hint="log in to the network, then re-run")
        return UploadError(
            f"the case refused the token ({said})",
            hint="check the case number (--case) and the upload token (--token-env); nothing was retried",
        )
    if kind is Kind.USAGE:
        if 300 <= status < 400:
            target = _safe_location(location)
            where = f" to {target}" if target else ""
            return UsageError(
                f"{said}: the upload URL redirects{where}",
                hint="use the final URL in --to (uploads never follow redirects: the token would go along)",
            )
        return UsageError(f"{said}: no upload location at this URL", hint=URL_HINT)
    if status == 413:
        return UploadError(
            f"{said}: the bundle is too large for this server in one request",
            hint="send it in numbered parts: --part-size 64MiB (the case team joins them, see README)",
        )
    return UploadError(said, hint="the server refused the request; the state is kept, re-run once it is fixed")


def shown(text: str, limit: int = 200) -> str:
    """Text a server sent, made safe to print: printable characters only, no markup brackets, bounded."""
    clean = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return clean.replace("[", "(").replace("]", ")") + ("..." if len(text) > limit else "")


def _safe_location(location: str | None) -> str:
    if not location or len(location) > 300:
        return ""
    try:
        url = strip_credentials(location)
    except ValueError:
        return ""
    return shown(url) if url.startswith(("https://", "http://")) else ""


def is_refused(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED


def network_kind(exc: BaseException, contacted: bool) -> Kind:
    """The class of a failure below HTTP. `contacted`: this run already reached the server once."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Kind.FINAL
    if isinstance(exc, socket.gaierror):
        return Kind.USAGE
    if is_refused(exc):
        return Kind.RETRY if contacted else Kind.USAGE
    if isinstance(exc, ssl.SSLError) and getattr(exc, "reason", None) in _NOT_TLS and not contacted:
        return Kind.USAGE
    if isinstance(exc, OSError | http.client.HTTPException | EOFError):
        return Kind.RETRY
    return Kind.FINAL


def network_error(exc: BaseException, where: str, contacted: bool, what: str = "") -> Exception:
    """The exception to raise for a network failure reaching `where` (e.g. "127.0.0.1:8443" or "the proxy ...")."""
    if isinstance(exc, CollectorError | Retryable):
        return exc
    kind = network_kind(exc, contacted)
    doing = f"{what} to {where}" if what else where
    if isinstance(exc, ssl.SSLCertVerificationError):
        return UploadError(
            f"TLS verification of {where} failed: the server certificate is not trusted",
            hint="pass --ca-bundle FILE with the CA that signed the server's certificate; there is no insecure mode",
        )
    if kind is Kind.USAGE:
        if isinstance(exc, socket.gaierror):
            return UsageError(f"cannot resolve the host of {where}", hint=URL_HINT)
        if is_refused(exc):
            return UsageError(f"nothing accepts connections at {where} (connection refused)", hint=URL_HINT)
        return UsageError(f"{where} does not speak TLS", hint="use the https:// port of the server in --to")
    if kind is Kind.RETRY:
        return Retryable(f"{doing} failed: {_describe(exc)}")
    return UploadError(f"{doing} failed: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    """The error's class and errno name only: its text may quote a request line or a mistyped secret."""
    name = type(exc).__name__
    err = getattr(exc, "errno", None)
    code = errno.errorcode.get(err, "") if isinstance(err, int) else ""
    return f"{name} ({code})" if code else name
