"""HTTPS PUT upload of a bundle in parts against a real nginx (WebDAV, TLS with a test CA, Basic auth).

Cuts from the fault proxy at random points: every run completes, the parts reassemble to the original SHA-256,
and the bytes re-sent stay under one part per cut. Also: wrong token, unknown CA, Ctrl-C, secrets never written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.errors import Interrupted, UploadError
from collector.secrets import Secret
from collector.upload import format_status, upload_bundle, upload_status
from collector.upload import parts as parts_mod
from collector.upload.common import UploadResult
from collector.upload.http_put import HttpPutSender
from collector.upload.state import state_path
from tests.servers.fault_proxy import FaultProxy
from tests.servers.nginx_dav import NginxDav, issue_server_cert, make_ca, nginx_dav  # noqa: F401  (fixture)

pytestmark = pytest.mark.servers

MiB = 1024 * 1024
PART = 1 * MiB
BUNDLE_SIZE = 20 * MiB + 12_345  # 21 parts, the last one short
SEED = int(os.environ.get("COLLECTOR_TEST_SEED", "20261127"))


@pytest.fixture(scope="module")
def bundle_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bundle-src")
    p = d / "collector-694201337-r1-20261127T120000Z.tar.gz"
    with p.open("wb") as fh:
        rnd = random.Random(SEED)
        left = BUNDLE_SIZE
        while left:
            n = min(left, MiB)
            fh.write(rnd.randbytes(n))
            left -= n
    return p


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(MiB):
            h.update(block)
    return h.hexdigest()


def _bundle_copy(src: Path, d: Path) -> Path:
    """A hard link: same bytes, its own `<bundle>.upload.json` state beside it."""
    d.mkdir(parents=True, exist_ok=True)
    dst = d / src.name
    os.link(src, dst)
    return dst


def _reassembled_sha(server_dir: Path, name: str) -> str:
    manifest = json.loads((server_dir / f"{name}.parts.json").read_text())
    h = hashlib.sha256()
    for p in manifest["parts"]:
        data = (server_dir / p["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == p["sha256"], p["name"]
        h.update(data)
    assert h.hexdigest() == manifest["bundle"]["sha256"]
    return h.hexdigest()


def _up(bundle: Path, srv: NginxDav, url: str | None = None, **kw: object) -> UploadResult:
    args: dict[str, object] = {
        "to": url or srv.url,
        "case": srv.user,
        "token": Secret(srv.token, "upload token"),
        "part_size": PART,
        "ca_bundle": srv.ca_path,
        "progress": False,
        "backoff": 0.01,
        "timeout": 10.0,
    }
    args.update(kw)
    return upload_bundle(bundle, **args)  # type: ignore[arg-type]


@pytest.fixture
def proxy(nginx_dav: NginxDav) -> Iterator[FaultProxy]:  # noqa: F811
    p = FaultProxy("127.0.0.1", nginx_dav.port).start()
    try:
        yield p
    finally:
        p.stop()


def test_parts_reassemble_to_original(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    bundle = _bundle_copy(bundle_src, tmp_path / "b")
    res = _up(bundle, nginx_dav)
    assert res.complete and res.parts_total == 21 and res.parts_sent == 21
    assert res.bytes_resent == 0
    assert _reassembled_sha(nginx_dav.home, bundle.name) == _sha(bundle_src)
    names = sorted(os.listdir(nginx_dav.home))
    assert names[0] == f"{bundle.name}.part0001" and names[-1] == f"{bundle.name}.parts.json"
    # the manifest goes last, once every part is confirmed
    puts = [ln for ln in nginx_dav.access_lines() if '"PUT ' in ln]
    assert len(puts) == 22 and ".parts.json" in puts[-1] and all(" 201 " in ln for ln in puts)
    # a re-run of a finished upload sends nothing
    again = _up(bundle, nginx_dav)
    assert again.complete and again.bytes_sent == 0
    assert len([ln for ln in nginx_dav.access_lines() if '"PUT ' in ln]) == 22
    st = upload_status(bundle)
    d = st["destinations"][0]
    assert (d["parts_done"], d["parts_total"], d["bytes_done"], d["complete"]) == (21, 21, BUNDLE_SIZE, True)
    assert "21/21 parts" in format_status(st)


def test_small_bundle_goes_under_its_own_name(nginx_dav: NginxDav, tmp_path: Path) -> None:  # noqa: F811
    bundle = tmp_path / "small.tar.gz"
    bundle.write_bytes(os.urandom(100_000))
    res = _up(bundle, nginx_dav)
    assert res.complete and res.parts_total == 1
    assert sorted(os.listdir(nginx_dav.home)) == ["small.tar.gz"]
    assert _sha(nginx_dav.home / "small.tar.gz") == _sha(bundle)


def test_wrong_token_fails_at_once_without_retries(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    bundle = _bundle_copy(bundle_src, tmp_path / "b")
    t0 = time.monotonic()
    with pytest.raises(UploadError) as ei:
        _up(bundle, nginx_dav, token=Secret("not-the-token"), retries=5, backoff=1.0)
    assert time.monotonic() - t0 < 5
    assert "refused the token" in ei.value.message and ei.value.hint
    assert "not-the-token" not in ei.value.message
    lines = nginx_dav.access_lines()
    assert len(lines) == 1 and " 401 " in lines[0]
    # Expect: 100-continue: the 401 came back before the 1 MiB body was sent
    assert int(lines[0].split()[-2]) < 2048  # $request_length: headers only
    assert upload_status(bundle)["destinations"][0]["bytes_sent_total"] == 0
    assert not any(p.name.startswith(bundle.name) for p in nginx_dav.home.iterdir())


def test_unknown_ca_is_refused(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    other = make_ca(tmp_path / "other-ca", "some other CA")
    bundle = _bundle_copy(bundle_src, tmp_path / "b")
    for ca in (other.cert_path, None):  # a wrong CA file, and the system trust store
        t0 = time.monotonic()
        with pytest.raises(UploadError) as ei:
            _up(bundle, nginx_dav, ca_bundle=ca, retries=5, backoff=1.0)
        assert "TLS verification" in ei.value.message and "--ca-bundle" in ei.value.hint
        assert time.monotonic() - t0 < 5  # not retried
    assert nginx_dav.access_lines() == []


def test_token_never_in_state_logs_or_errors(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bundle = _bundle_copy(bundle_src, tmp_path / "b")
    url = f"https://127.0.0.1:{proxy.port}/home/"
    proxy.cut_after_bytes(3 * MiB + 777)
    messages = []
    with pytest.raises(UploadError) as ei:
        _up(bundle, nginx_dav, url=url, retries=0)
    messages.append(f"{ei.value.message} {ei.value.hint} {ei.value!r}")
    res = _up(bundle, nginx_dav, url=url)
    assert res.complete
    token = nginx_dav.token
    basic = base64.b64encode(f"{nginx_dav.user}:{token}".encode()).decode()
    state_text = state_path(bundle).read_text()
    assert oct(state_path(bundle).stat().st_mode & 0o777) == "0o600"
    for blob in (state_text, caplog.text, *messages, repr(res), json.dumps(upload_status(bundle))):
        assert token not in blob and basic not in blob
    assert "-> HTTP 201" in caplog.text  # the per-request debug logs were captured, and were clean


def test_interrupted_upload_resends_only_missing_parts(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
) -> None:
    bundle = _bundle_copy(bundle_src, tmp_path / "b")
    url = f"https://127.0.0.1:{proxy.port}/home/"
    proxy.cut_after_bytes(int(7.5 * MiB))  # in the middle of part 8
    with pytest.raises(UploadError):
        _up(bundle, nginx_dav, url=url, retries=0)
    st = upload_status(bundle)["destinations"][0]
    assert st["parts_done"] == 7 and not st["complete"]
    res = _up(bundle, nginx_dav, url=url, retries=0)
    assert res.complete and res.parts_skipped == 7 and res.bytes_resent == 0
    puts = [ln.split()[2] for ln in nginx_dav.access_lines() if '"PUT ' in ln and " 201 " in ln]
    assert len(puts) == len(set(puts)) == 22  # every part stored exactly once
    assert _reassembled_sha(nginx_dav.home, bundle.name) == _sha(bundle_src)
    total_resent = upload_status(bundle)["destinations"][0]["bytes_resent_total"]
    assert 0 < total_resent <= PART


def test_ctrl_c_keeps_state_and_rerun_resumes(
    nginx_dav: NginxDav,  # noqa: F811
    bundle_src: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = _bundle_copy(bundle_src, tmp_path / "b")
    real_read = parts_mod.PartReader.read
    budget = {"left": 5 * MiB + 4096}

    def interrupting_read(self: parts_mod.PartReader, n: int = -1) -> bytes:
        data = real_read(self, n)
        budget["left"] -= len(data)
        if budget["left"] < 0:
            raise KeyboardInterrupt
        return data

    monkeypatch.setattr(parts_mod.PartReader, "read", interrupting_read)
    with pytest.raises(Interrupted) as ei:
        _up(bundle, nginx_dav)
    assert "5/21 parts" in ei.value.message
    monkeypatch.setattr(parts_mod.PartReader, "read", real_read)
    res = _up(bundle, nginx_dav)
    assert res.complete and res.parts_skipped == 5
    assert _reassembled_sha(nginx_dav.home, bundle.name) == _sha(bundle_src)


def test_refused_and_stalled_connections_are_retried(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
) -> None:
    bundle = _bundle_copy(bundle_src, tmp_path / "b")
    url = f"https://127.0.0.1:{proxy.port}/home/"
    proxy.refuse_next(2)
    proxy.cut_after_bytes(2 * MiB + 100, action="stall")  # a black-holed connection: only a timeout shows it
    t0 = time.monotonic()
    res = _up(bundle, nginx_dav, url=url, retries=4, timeout=1.5)
    assert res.complete and res.attempts_failed == 3
    assert res.bytes_resent <= PART
    assert time.monotonic() - t0 < 20
    assert proxy.refused == 2 and proxy.faults == 1
    proxy.unstall()
    assert _reassembled_sha(nginx_dav.home, bundle.name) == _sha(bundle_src)


def _cut_runs(srv: NginxDav, proxy: FaultProxy, bundle_src: Path, tmp_path: Path, runs: int) -> dict[str, float]:
    rng = random.Random(SEED)
    want = _sha(bundle_src)
    # one clean run through the proxy measures the bytes a cut point is drawn from
    before = proxy.bytes_up
    clean = _up(_bundle_copy(bundle_src, tmp_path / "clean"), srv, url=f"https://127.0.0.1:{proxy.port}/home/clean/")
    assert clean.complete
    clean_up = proxy.bytes_up - before
    worst_resent = 0
    total_resent = 0
    for i in range(runs):
        bundle = _bundle_copy(bundle_src, tmp_path / f"run{i}")
        url = f"https://127.0.0.1:{proxy.port}/home/run{i}/"
        point = rng.randrange(1, clean_up)
        rerun_mode = i % 2 == 1  # odd runs: no retries, the user re-runs the command
        faults0, up0 = proxy.faults, proxy.bytes_up
        proxy.cut_after_bytes(point, direction="up")
        resent = 0
        calls = 0
        while True:
            calls += 1
            assert calls <= 3, f"run {i} (cut at {point}) did not complete"
            try:
                res = _up(bundle, srv, url=url, retries=0 if rerun_mode else 3)
            except UploadError:
                assert rerun_mode
                continue
            resent = upload_status(bundle)["destinations"][0]["bytes_resent_total"]
            break
        assert res.complete, f"run {i}"
        assert proxy.faults - faults0 == 1 and not proxy.armed
        assert _reassembled_sha(srv.home / f"run{i}", bundle.name) == want, f"run {i} cut at {point}"
        assert resent <= PART, f"run {i}: {resent} bytes re-sent for one cut"
        # independent check on the wire: extra bytes = at most one part plus one new TLS connection's overhead
        assert proxy.bytes_up - up0 <= clean_up + PART + 64 * 1024, f"run {i}"
        worst_resent = max(worst_resent, resent)
        total_resent += resent
    return {"clean_up": clean_up, "worst_resent": worst_resent, "mean_resent": total_resent / runs}


def test_random_cut_points_sample(nginx_dav: NginxDav, proxy: FaultProxy, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    _cut_runs(nginx_dav, proxy, bundle_src, tmp_path, runs=5)


@pytest.mark.slow
def test_random_cut_points_full(nginx_dav: NginxDav, proxy: FaultProxy, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    out = _cut_runs(nginx_dav, proxy, bundle_src, tmp_path, runs=20)
    print(
        f"https, 20 cuts: clean upload {out['clean_up']} bytes up; re-sent per cut: worst {out['worst_resent']}, "
        f"mean {out['mean_resent']:.0f} (part size {PART})"
    )


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
                n = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
                got.append(fp.read(n))
                c.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    sender = HttpPutSender(f"https://127.0.0.1:{port}/home/", "123", Secret("tok"), ca.cert_path, 5.0, 0.2)
    try:
        for i in range(2):
            t0 = time.monotonic()
            assert sender.put(f"p{i}", b"x" * 1000, hashlib.sha256(b"x" * 1000).hexdigest()) == 201
            waited = time.monotonic() - t0
            assert (waited >= 0.2) if i == 0 else (waited < 0.2)  # waits once, then stops asking
    finally:
        sender.close()
        listener.close()
    t.join(timeout=5)
    assert got == [b"x" * 1000] * 2
