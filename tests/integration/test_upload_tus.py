"""tus 1.0 upload against a small tus server written for the test (TLS with a test CA, Basic auth, checksums).

No tusd is packaged here, so the server below follows the spec's core + creation + checksum sections; the fault
proxy cuts the stream at random points and the upload still completes with the original SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collector.errors import UploadError
from collector.secrets import Secret
from collector.upload import upload_bundle, upload_status
from collector.upload.common import UploadResult
from tests.servers.fault_proxy import FaultProxy
from tests.servers.nginx_dav import CASE, TOKEN, issue_server_cert, make_ca

MiB = 1024 * 1024
SIZE = 5 * MiB + 999
CHUNK = 256 * 1024
SEED = int(os.environ.get("COLLECTOR_TEST_SEED", "20261127"))


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


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    p = tmp_path / "collector-694201337-r1-20261127T120000Z.tar.gz"
    p.write_bytes(random.Random(SEED).randbytes(SIZE))
    return p


def _up(bundle: Path, srv: TusServer, url: str | None = None, **kw: object) -> UploadResult:
    args: dict[str, object] = {
        "to": url or srv.url,
        "case": CASE,
        "token": Secret(TOKEN),
        "part_size": CHUNK,
        "ca_bundle": srv.ca_path,
        "progress": False,
        "backoff": 0.01,
        "timeout": 10.0,
    }
    args.update(kw)
    return upload_bundle(bundle, **args)  # type: ignore[arg-type]


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_tus_upload_with_checksums(tus_server: TusServer, bundle: Path) -> None:
    res = _up(bundle, tus_server)
    assert res.complete and res.bytes_sent == SIZE and res.bytes_resent == 0
    assert _sha(tus_server.file_for(bundle.name)) == _sha(bundle)
    chunks = -(-SIZE // CHUNK)
    assert tus_server.store.checksum_headers == chunks == tus_server.store.requests["PATCH"]
    assert tus_server.store.requests["POST"] == 1


def test_tus_wrong_token(tus_server: TusServer, bundle: Path) -> None:
    with pytest.raises(UploadError) as ei:
        _up(bundle, tus_server, token=Secret("nope-nope"), retries=5, backoff=1.0)
    assert "refused the token" in ei.value.message
    assert sum(tus_server.store.requests.values()) == 1


def test_tus_resumes_across_runs_and_cuts(tus_server: TusServer, bundle: Path) -> None:
    proxy = FaultProxy("127.0.0.1", tus_server.port).start()
    try:
        url = f"tus+https://127.0.0.1:{proxy.port}/files/"
        rng = random.Random(SEED)
        proxy.cut_after_bytes(SIZE // 2)
        with pytest.raises(UploadError):
            _up(bundle, tus_server, url=url, retries=0)
        proxy.cut_series([rng.randrange(1, SIZE // 5) for _ in range(5)])
        res = _up(bundle, tus_server, url=url, retries=6)
        assert res.complete and res.resumed_from > 0 and proxy.faults == 6
    finally:
        proxy.stop()
    assert tus_server.store.requests["POST"] == 1  # one upload resource, continued, never restarted
    assert _sha(tus_server.file_for(bundle.name)) == _sha(bundle)
    st = upload_status(bundle)["destinations"][0]
    assert st["bytes_sent_total"] - SIZE == st["bytes_resent_total"]
    assert st["bytes_resent_total"] <= 6 * CHUNK  # at most one chunk per cut
