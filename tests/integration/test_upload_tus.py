"""tus 1.0 upload against the tus test server (tests/servers/tus.py: TLS with a test CA, Basic auth, checksums).

The fault proxy cuts the stream at random points and the upload still completes with the original SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from collector.errors import UploadError
from collector.secrets import Secret
from collector.upload import upload_bundle, upload_status
from collector.upload.common import UploadResult
from tests.helpers.bundles import link_bundle, make_bundle
from tests.servers.fault_proxy import FaultProxy
from tests.servers.nginx_dav import CASE, TOKEN
from tests.servers.tus import TusServer, tus_server  # noqa: F401  (fixture)

MiB = 1024 * 1024
PAYLOAD = 2 * MiB + 999
CHUNK = 256 * 1024
SEED = int(os.environ.get("COLLECTOR_TEST_SEED", "20261127"))


@pytest.fixture(scope="module")
def bundle_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("bundle-src"), PAYLOAD, SEED)


@pytest.fixture
def bundle(bundle_src: Path, tmp_path: Path) -> Path:
    return link_bundle(bundle_src, tmp_path / "b")


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


def test_tus_upload_with_checksums(tus_server: TusServer, bundle: Path) -> None:  # noqa: F811
    size = bundle.stat().st_size
    res = _up(bundle, tus_server)
    assert res.complete and res.bytes_sent == res.bytes_accepted == size and res.bytes_resent == 0
    assert res.mode == "tus" and res.proxy == ""
    assert _sha(tus_server.file_for(bundle.name)) == _sha(bundle)
    chunks = -(-size // CHUNK)
    assert tus_server.store.checksum_headers == chunks == tus_server.store.requests["PATCH"]
    assert tus_server.store.requests["POST"] == 1


def test_tus_wrong_token(tus_server: TusServer, bundle: Path) -> None:  # noqa: F811
    with pytest.raises(UploadError) as ei:
        _up(bundle, tus_server, token=Secret("nope-nope"), retries=5, backoff=1.0)
    assert "refused the token" in ei.value.message and ei.value.exit_code == 22
    assert sum(tus_server.store.requests.values()) == 1


def test_tus_resumes_across_runs_and_cuts(tus_server: TusServer, bundle: Path) -> None:  # noqa: F811
    proxy = FaultProxy("127.0.0.1", tus_server.port).start()
    try:
        url = f"tus+https://127.0.0.1:{proxy.port}/files/"
        rng = random.Random(SEED)
        size = bundle.stat().st_size
        proxy.cut_after_bytes(size // 2)
        with pytest.raises(UploadError):
            _up(bundle, tus_server, url=url, retries=0)
        proxy.cut_series([rng.randrange(1, size // 5) for _ in range(5)])
        res = _up(bundle, tus_server, url=url, retries=6)
        assert res.complete and res.resumed_from > 0 and proxy.faults == 6
    finally:
        proxy.stop()
    assert tus_server.store.requests["POST"] == 1  # one upload resource, continued, never restarted
    assert _sha(tus_server.file_for(bundle.name)) == _sha(bundle)
    st = upload_status(bundle)["destinations"][0]
    assert st["bytes_sent_total"] - size == st["bytes_resent_total"]
    assert st["bytes_done"] == size == res.bytes_on_case and res.bytes_accepted == size - res.resumed_from
    assert st["bytes_resent_total"] <= 6 * CHUNK  # at most one chunk per cut
