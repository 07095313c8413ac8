"""The failure table of uploads: every HTTP status and the network errors, classed once for all adapters.

usage -> exit 2 at once, auth -> exit 22 at once, retry -> retried (bounded), final -> exit 22 at once.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.errors import UploadError, UsageError
from collector.upload.common import Retryable
from collector.upload.failures import Kind, network_error, network_kind, shown, status_error, status_kind

STATUS_TABLE = [
    (200, Kind.OK), (201, Kind.OK), (204, Kind.OK),
    (301, Kind.USAGE), (302, Kind.USAGE), (307, Kind.USAGE), (308, Kind.USAGE),
    (400, Kind.FINAL), (401, Kind.AUTH), (403, Kind.AUTH), (404, Kind.USAGE), (405, Kind.USAGE),
    (407, Kind.AUTH), (408, Kind.RETRY), (409, Kind.FINAL), (410, Kind.USAGE), (411, Kind.FINAL),
    (413, Kind.FINAL), (414, Kind.USAGE), (415, Kind.FINAL), (421, Kind.USAGE), (425, Kind.RETRY),
    (429, Kind.RETRY), (500, Kind.RETRY), (501, Kind.USAGE), (502, Kind.RETRY), (503, Kind.RETRY),
    (504, Kind.RETRY), (505, Kind.FINAL), (507, Kind.FINAL), (511, Kind.AUTH),
]


@pytest.mark.parametrize(("status", "kind"), STATUS_TABLE)
def test_status_table(status: int, kind: Kind) -> None:
    assert status_kind(status) is kind
    err = status_error(status, "PUT b.tar.gz", "h:443")
    expected = {Kind.OK: type(None), Kind.USAGE: UsageError, Kind.AUTH: UploadError, Kind.RETRY: Retryable,
                Kind.FINAL: UploadError}[kind]
    assert type(err) is expected
    if isinstance(err, UsageError | UploadError):
        assert err.exit_code == (2 if kind is Kind.USAGE else 22) and err.hint
        assert f"HTTP {status}" in err.message


@given(st.integers(min_value=100, max_value=599))
def test_every_status_has_one_class_and_only_5xx_and_a_few_4xx_retry(status: int) -> None:
    kind = status_kind(status)
    err = status_error(status, "PUT x", "h")
    assert (err is None) == (kind is Kind.OK) == (200 <= status < 300)
    if kind is Kind.RETRY:
        assert status >= 500 or status in (408, 425, 429)
    if 300 <= status < 400:
        assert isinstance(err, UsageError)


def _ssl_error(reason: str) -> ssl.SSLError:
    e = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower()}")
    e.reason = reason
    return e


NETWORK_TABLE = [
    # (exception, contacted before, kind)
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), False, Kind.USAGE),
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), True, Kind.RETRY),
    (OSError(errno.ECONNREFUSED, "refused"), False, Kind.USAGE),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), False, Kind.USAGE),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), True, Kind.USAGE),
    (ConnectionResetError(errno.ECONNRESET, "reset"), False, Kind.RETRY),
    (BrokenPipeError(errno.EPIPE, "broken pipe"), True, Kind.RETRY),
    (TimeoutError("timed out"), False, Kind.RETRY),
    (OSError(errno.ENETUNREACH, "unreachable"), False, Kind.RETRY),
    (http.client.RemoteDisconnected("closed"), True, Kind.RETRY),
    (http.client.BadStatusLine("garbage"), True, Kind.RETRY),
    (ssl.SSLCertVerificationError(1, "certificate verify failed"), False, Kind.FINAL),
    (_ssl_error("WRONG_VERSION_NUMBER"), False, Kind.USAGE),
    (_ssl_error("WRONG_VERSION_NUMBER"), True, Kind.RETRY),
    (_ssl_error("DECRYPTION_FAILED_OR_BAD_RECORD_MAC"), False, Kind.RETRY),
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), False, Kind.RETRY),
]


@pytest.mark.parametrize(("exc", "contacted", "kind"), NETWORK_TABLE)
def test_network_table(exc: BaseException, contacted: bool, kind: Kind) -> None:
    assert network_kind(exc, contacted) is kind
    err = network_error(exc, "127.0.0.1:8443", contacted, "PUT b.tar.gz")
    expected = {Kind.USAGE: UsageError, Kind.RETRY: Retryable, Kind.FINAL: UploadError}[kind]
    assert type(err) is expected
    if isinstance(err, UsageError):
        assert err.exit_code == 2 and "--to" in err.hint


def test_network_messages_do_not_quote_the_error_text() -> None:
    """An OSError's text may quote a request line (with a mistyped secret): only its class and errno show."""
    err = network_error(OSError(errno.ECONNRESET, "Bearer s3cr3t-token"), "h:443", True, "PUT x")
    assert "s3cr3t" not in str(err) and "ConnectionResetError (ECONNRESET)" in str(err)


@given(st.text(max_size=400))
def test_server_text_is_made_printable_and_markup_free(text: str) -> None:
    out = shown(text)
    assert out.isprintable() and "[" not in out and "]" not in out and len(out) <= 203
