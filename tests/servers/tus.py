"""A small tus 1.0 server for the tests (no tusd is packaged here): core + creation + checksum, over TLS with a
test CA and Basic auth (the nginx_dav case number and token), on 127.0.0.1. Fixture `tus_server`.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.servers.nginx_dav import CASE, TOKEN, issue_server_cert, make_ca


@dataclass
class TusStore:
    root: Path
    uploads: dict[str, dict[str, object]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    checksum_headers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(store: TusStore) -> type[BaseHTTPRequestHandler]:
    auth_ok = "Basic " + base64.b64encode(f"{CASE}:{TOKEN}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

        def _reply(self, code: int, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Tus-Resumable", "1.0.0")
            self.send_header("Content-Length", "0")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()

        def _gate(self) -> bool:
            with store.lock:
                store.requests[self.command] = store.requests.get(self.command, 0) + 1
            if self.headers.get("Authorization") != auth_ok:
                self._drain()
                self._reply(401)
                return False
            if self.command != "OPTIONS" and self.headers.get("Tus-Resumable") != "1.0.0":
                self._reply(412)
                return False
            return True

        def _drain(self) -> None:
            n = int(self.headers.get("Content-Length", "0") or 0)
            while n > 0:
                got = self.rfile.read(min(n, 65536))
                if not got:
                    break
                n -= len(got)

        def do_OPTIONS(self) -> None:  # noqa: N802
            if self._gate():
                self._reply(
                    204,
                    {
                        "Tus-Version": "1.0.0",
                        "Tus-Extension": "creation,checksum",
                        "Tus-Checksum-Algorithm": "sha1",
                    },
                )

        def do_POST(self) -> None:  # noqa: N802
            if not self._gate():
                return
            uid = uuid.uuid4().hex
            length = int(self.headers["Upload-Length"])
            meta = dict(kv.split(" ", 1) for kv in self.headers.get("Upload-Metadata", "").split(",") if kv)
            name = base64.b64decode(meta["filename"]).decode()
            path = store.root / uid
            path.write_bytes(b"")
            with store.lock:
                store.uploads[uid] = {"length": length, "path": path, "name": name}
            self._reply(201, {"Location": f"/files/{uid}"})

        def _upload(self) -> dict[str, object] | None:
            uid = self.path.rsplit("/", 1)[-1]
            return store.uploads.get(uid)

        def do_HEAD(self) -> None:  # noqa: N802
            if not self._gate():
                return
            up = self._upload()
            if up is None:
                self._reply(404)
                return
            path = up["path"]
            assert isinstance(path, Path)
            self._reply(
                200,
                {
                    "Upload-Offset": str(path.stat().st_size),
                    "Upload-Length": str(up["length"]),
                    "Cache-Control": "no-store",
                },
            )

        def do_PATCH(self) -> None:  # noqa: N802
            if not self._gate():
                return
            up = self._upload()
            if up is None:
                self._drain()
                self._reply(404)
                return
            path = up["path"]
            assert isinstance(path, Path)
            n = int(self.headers["Content-Length"])
            body = bytearray()
            while len(body) < n:
                got = self.rfile.read(min(n - len(body), 65536))
                if not got:
                    return  # cut short: with checksums on, a partial chunk cannot be verified, so it is dropped
                body += got
            if int(self.headers["Upload-Offset"]) != path.stat().st_size:
                self._reply(409)
                return
            algo_b64 = self.headers.get("Upload-Checksum")
            if algo_b64:
                with store.lock:
                    store.checksum_headers += 1
                algo, b64 = algo_b64.split(" ", 1)
                if algo != "sha1":
                    self._reply(400)
                    return
                if hashlib.sha1(body).digest() != base64.b64decode(b64):  # noqa: S324
                    self._reply(460)
                    return
            with path.open("ab") as fh:
                fh.write(body)
            self._reply(204, {"Upload-Offset": str(path.stat().st_size)})

    return Handler


@dataclass
class TusServer:
    url: str
    port: int
    ca_path: Path
    store: TusStore

    def file_for(self, name: str) -> Path:
        for up in self.store.uploads.values():
            if up["name"] == name:
                p = up["path"]
                assert isinstance(p, Path)
                return p
        raise KeyError(name)


@pytest.fixture
def tus_server(tmp_path: Path) -> Iterator[TusServer]:
    ca = make_ca(tmp_path / "ca")
    cert, key = issue_server_cert(ca, tmp_path)
    store = TusStore(tmp_path / "tus-data")
    store.root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(store))
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    port = httpd.server_address[1]
    try:
        yield TusServer(f"tus+https://127.0.0.1:{port}/files/", int(port), ca.cert_path, store)
    finally:
        httpd.shutdown()
        httpd.server_close()
        t.join(timeout=5)
