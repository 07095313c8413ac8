"""Failure classes on real sockets: a wrong URL, scheme or port is a usage error at once (exit 2), refused
credentials an auth error at once (exit 22), a network failure or 5xx is retried (bounded) and then says so.

Servers: the real nginx (WebDAV, TLS, Basic auth), a closed port, a plain-HTTP server, and a small scripted HTTPS
server for statuses nginx cannot be made to give here (503 then 201, 404, 301, 413).
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collector.errors import CollectorError
from collector.secrets import Secret
from collector.upload import upload_bundle, upload_status
from collector.upload.https_conn import HttpsClient
from tests.helpers.bundles import link_bundle, make_bundle
from tests.servers.nginx_dav import TOKEN, NginxDav, issue_server_cert, make_ca, nginx_dav  # noqa: F401
from tests.servers.ports import free_port

pytestmark = pytest.mark.servers

MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def bundle_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("bundle-src"), 2 * MiB, 7)


@dataclass
class Scripted:
    """An HTTPS server answering PUTs with the next status of `script` (the last one repeats)."""

    url: str
    ca: Path
    script: list[tuple[int, dict[str, str]]]
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, body bytes read)


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[Scripted]:
    ca = make_ca(tmp_path / "ca")
    cert, key = issue_server_cert(ca, tmp_path)
    box: list[Scripted] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def do_PUT(self) -> None:  # noqa: N802
            srv = box[0]
            status, headers = srv.script[min(len(srv.requests), len(srv.script) - 1)]
            n = int(self.headers.get("Content-Length", "0"))
            got = len(self.rfile.read(n)) if status < 300 else 0
            srv.requests.append((self.path, got))
            self.send_response(status)
            for k, v in {"Content-Length": "0", **headers}.items():
                self.send_header(k, v)
            if status >= 300:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()

        def handle_expect_100(self) -> bool:  # answer early when the script says no
            srv = box[0]
            status, _ = srv.script[min(len(srv.requests), len(srv.script) - 1)]
            return super().handle_expect_100() if status < 300 else True

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    box.append(Scripted(f"https://127.0.0.1:{httpd.server_address[1]}/home/", ca.cert_path, []))
    try:
        yield box[0]
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join(timeout=5)


def _up(bundle: Path, to: str, ca: Path | None, **kw: object) -> object:
    args: dict[str, object] = {"to": to, "case": "694201337", "token": Secret(TOKEN), "ca_bundle": ca,
                               "progress": False, "backoff": 1.0, "retries": 5, "timeout": 10.0}
    args.update(kw)
    return upload_bundle(bundle, **args)  # type: ignore[arg-type]


def _fails_at_once(fn: object, code: int, words: str) -> CollectorError:
    assert callable(fn)
    t0 = time.monotonic()
    with pytest.raises(CollectorError) as ei:
        fn()
    # backoff=1.0: any retry would have waited at least a second
    assert time.monotonic() - t0 < 1.0, "retried"
    assert ei.value.exit_code == code, ei.value.message
    assert words in ei.value.message, ei.value.message
    return ei.value


def test_wrong_path_on_nginx_is_a_usage_error(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    bundle = link_bundle(bundle_src, tmp_path / "b")
    wrong = nginx_dav.url.replace("/home/", "/uploads/")  # nginx: no DAV there, PUT is not allowed (405)
    err = _fails_at_once(lambda: _up(bundle, wrong, nginx_dav.ca_path), 2, "HTTP 405")
    assert "--to" in err.hint
    lines = nginx_dav.access_lines()
    assert len(lines) == 1 and " 405 " in lines[0] and int(lines[0].split()[-2]) < 4096  # the body never went


def test_wrong_token_on_nginx_is_an_auth_error(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    bundle = link_bundle(bundle_src, tmp_path / "b")
    err = _fails_at_once(lambda: _up(bundle, nginx_dav.url, nginx_dav.ca_path, token=Secret("not-the-token")), 22,
                         "refused the token")
    assert "not-the-token" not in f"{err.message} {err.hint}" and "--token-env" in err.hint
    lines = nginx_dav.access_lines()
    assert len(lines) == 1 and " 401 " in lines[0] and int(lines[0].split()[-2]) < 4096  # Expect: 100-continue
    assert upload_status(bundle)["destinations"][0]["bytes_sent_total"] == 0
    assert list(nginx_dav.home.iterdir()) == []


def test_refused_port_is_a_usage_error(bundle_src: Path, tmp_path: Path) -> None:
    bundle = link_bundle(bundle_src, tmp_path / "b")
    port = free_port()  # nothing listens there
    _fails_at_once(lambda: _up(bundle, f"https://127.0.0.1:{port}/home/", None), 2, "connection refused")


def test_plain_http_port_is_a_usage_error(bundle_src: Path, tmp_path: Path) -> None:
    """https:// to a server that speaks plain HTTP: a wrong scheme or port, said at once."""
    bundle = link_bundle(bundle_src, tmp_path / "b")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        _fails_at_once(lambda: _up(bundle, f"https://127.0.0.1:{httpd.server_address[1]}/home/", None), 2,
                       "does not speak TLS")
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join(timeout=5)


@pytest.mark.parametrize(
    ("status", "headers", "code", "words"),
    [
        (404, {}, 2, "no upload location"),
        (301, {"Location": "https://elsewhere.example/[home]/"}, 2, "redirects to https://elsewhere.example/(home)/"),
        (413, {}, 22, "too large"),
        (400, {}, 22, "HTTP 400"),
    ],
)
def test_final_statuses_are_not_retried(
    scripted: Scripted, bundle_src: Path, tmp_path: Path, status: int, headers: dict[str, str], code: int,
    words: str,
) -> None:
    bundle = link_bundle(bundle_src, tmp_path / "b")
    scripted.script = [(status, headers)]
    err = _fails_at_once(lambda: _up(bundle, scripted.url, scripted.ca), code, words)
    assert len(scripted.requests) == 1 and scripted.requests[0][1] == 0
    if status == 413:
        assert "--part-size" in err.hint


def test_5xx_is_retried_then_succeeds(scripted: Scripted, bundle_src: Path, tmp_path: Path) -> None:
    bundle = link_bundle(bundle_src, tmp_path / "b")
    scripted.script = [(503, {}), (502, {}), (201, {})]
    res = _up(bundle, scripted.url, scripted.ca, backoff=0.01)
    assert getattr(res, "complete") and getattr(res, "attempts_failed") == 2  # noqa: B009
    assert [got for _, got in scripted.requests] == [0, 0, bundle.stat().st_size]


def test_5xx_gives_up_after_bounded_retries_with_the_resume_hint(
    scripted: Scripted, bundle_src: Path, tmp_path: Path
) -> None:
    bundle = link_bundle(bundle_src, tmp_path / "b")
    scripted.script = [(503, {})]
    with pytest.raises(CollectorError) as ei:
        _up(bundle, scripted.url, scripted.ca, retries=3, backoff=0.01)
    assert ei.value.exit_code == 22 and "failed after 4 attempts" in ei.value.message
    assert "HTTP 503" in ei.value.message and "re-run the same" in ei.value.hint and "whole" in ei.value.hint
    assert len(scripted.requests) == 4


def test_server_ignoring_expect_still_gets_the_body(tmp_path: Path) -> None:
    """An HTTP/1.0-minded server that never sends 100 Continue: the body follows after the wait, once."""
    ca = make_ca(tmp_path / "ca")
    cert, key = issue_server_cert(ca, tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    got: list[bytes] = []

    def serve() -> None:
        for _ in range(2):
            raw, _ = listener.accept()
            with ctx.wrap_socket(raw, server_side=True) as c:
                fp = c.makefile("rb")
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    head += fp.readline()
                n = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                got.append(fp.read(n))
                c.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    client = HttpsClient(f"https://127.0.0.1:{port}/home/", ca_bundle=ca.cert_path, timeout=5.0,
                         basic_auth=("123", Secret("tok")), continue_wait=0.2)
    body = b"x" * 1000
    counted: list[int] = []
    try:
        for i in range(2):
            t0 = time.monotonic()
            reply = client.request("PUT", f"/home/p{i}", {"X-Content-SHA256": hashlib.sha256(body).hexdigest()},
                                   body, on_sent=counted.append, expect=True)
            assert reply.status == 201
            waited = time.monotonic() - t0
            assert (waited >= 0.2) if i == 0 else (waited < 0.2)  # waits once, then stops asking
    finally:
        client.close()
        listener.close()
    t.join(timeout=5)
    assert got == [body] * 2 and sum(counted) == 2 * len(body)
