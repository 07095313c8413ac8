"""HTTPS PUT upload against a real nginx (WebDAV, TLS with a test CA, Basic auth): one PUT of the whole bundle by
default, numbered parts on request.

Cuts from the fault proxy at random points: every run completes with the original SHA-256 on the server; a cut
costs at most the bytes of one PUT (the whole bundle by default, one part with --part-size). Also: wrong token,
unknown CA, Ctrl-C, secrets never written, and what the summary counts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.errors import Interrupted, UploadError
from collector.secrets import Secret
from collector.upload import format_status, upload_bundle, upload_status
from collector.upload import parts as parts_mod
from collector.upload.common import UploadResult
from collector.upload.state import state_path
from tests.helpers.bundles import link_bundle, make_bundle, sha256_of
from tests.servers.fault_proxy import FaultProxy
from tests.servers.nginx_dav import NginxDav, make_ca, nginx_dav  # noqa: F401  (fixture)

pytestmark = pytest.mark.servers

MiB = 1024 * 1024
PART = 1 * MiB
PAYLOAD = 8 * MiB + 12_345
SEED = int(os.environ.get("COLLECTOR_TEST_SEED", "20261127"))


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def bundle_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("bundle-src"), PAYLOAD, SEED)


def _size(p: Path) -> int:
    return p.stat().st_size


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
        "ca_bundle": srv.ca_path,
        "progress": False,
        "backoff": 0.01,
        "timeout": 10.0,
    }
    args.update(kw)
    return upload_bundle(bundle, **args)  # type: ignore[arg-type]


def _puts(srv: NginxDav) -> list[str]:
    return [ln for ln in srv.access_lines() if '"PUT ' in ln]


@pytest.fixture
def proxy(nginx_dav: NginxDav) -> Iterator[FaultProxy]:  # noqa: F811
    p = FaultProxy("127.0.0.1", nginx_dav.port).start()
    try:
        yield p
    finally:
        p.stop()


def test_default_is_one_put_of_the_whole_bundle(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    bundle = link_bundle(bundle_src, tmp_path / "b")
    size = _size(bundle)
    assert size > 4 * MiB  # a size that numbered parts would have cut
    res = _up(bundle, nginx_dav)
    assert res.complete and res.parts_total == 1 and res.mode == "single PUT" and res.proxy == ""
    assert (res.bytes_on_case, res.bytes_accepted, res.bytes_sent, res.bytes_resent) == (size, size, size, 0)
    assert sorted(os.listdir(nginx_dav.home)) == [bundle.name]
    assert sha256_of(nginx_dav.home / bundle.name) == sha256_of(bundle_src)
    puts = _puts(nginx_dav)
    assert len(puts) == 1 and f'"PUT /home/{bundle.name} HTTP/1.1" 201' in puts[0]
    assert int(puts[0].split()[-2]) >= size  # $request_length: the whole bundle in that one request
    assert res.url == f"{nginx_dav.url}{bundle.name}" and "direct" in res.summary()
    again = _up(bundle, nginx_dav)  # a re-run of a finished upload sends nothing
    assert again.complete and again.bytes_sent == 0 and len(_puts(nginx_dav)) == 1


def test_full_file_url_is_the_same_destination(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    """`https://host/home/<file>` (the CXD form) and `https://host/home/` name one destination and one state."""
    bundle = link_bundle(bundle_src, tmp_path / "b")
    res = _up(bundle, nginx_dav, url=nginx_dav.url + bundle.name)
    assert res.complete and sorted(os.listdir(nginx_dav.home)) == [bundle.name]
    again = _up(bundle, nginx_dav, url=nginx_dav.url.rstrip("/"))
    assert again.complete and again.bytes_sent == 0
    assert [d["url"] for d in upload_status(bundle)["destinations"]] == [nginx_dav.url]


def test_parts_on_request_reassemble_to_original(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    bundle = link_bundle(bundle_src, tmp_path / "b")
    n = -(-_size(bundle) // PART)
    res = _up(bundle, nginx_dav, part_size=PART)
    assert res.complete and res.parts_total == n and res.parts_sent == n and res.bytes_resent == 0
    assert _reassembled_sha(nginx_dav.home, bundle.name) == sha256_of(bundle_src)
    names = sorted(os.listdir(nginx_dav.home))
    assert names[0] == f"{bundle.name}.part0001" and names[-1] == f"{bundle.name}.parts.json"
    puts = _puts(nginx_dav)  # the manifest goes last, once every part is confirmed
    assert len(puts) == n + 1 and ".parts.json" in puts[-1] and all(" 201 " in ln for ln in puts)
    again = _up(bundle, nginx_dav)  # the re-run keeps the layout it started with, and sends nothing
    assert again.complete and again.bytes_sent == 0 and len(_puts(nginx_dav)) == n + 1
    st = upload_status(bundle)
    d = st["destinations"][0]
    assert (d["parts_done"], d["parts_total"], d["bytes_done"], d["complete"]) == (n, n, _size(bundle), True)
    assert f"{n}/{n} parts" in format_status(st)


def test_token_never_in_state_logs_or_errors(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bundle = link_bundle(bundle_src, tmp_path / "b")
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
    for blob in (state_text, caplog.text, *messages, repr(res), res.summary(), json.dumps(upload_status(bundle))):
        assert token not in blob and basic not in blob
    assert "-> HTTP 201" in caplog.text  # the per-request debug logs were captured, and were clean


def test_summary_counts_bytes_the_server_accepted(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
) -> None:
    """One cut mid-PUT, retried: the server accepted the bundle once; the socket took the cut attempt's bytes
    too, and exactly those are reported as sent a second time."""
    bundle = link_bundle(bundle_src, tmp_path / "b")
    size = _size(bundle)
    proxy.cut_after_bytes(size // 2, direction="up")
    res = _up(bundle, nginx_dav, url=f"https://127.0.0.1:{proxy.port}/home/", retries=2)
    assert res.complete and res.attempts_failed == 1 and proxy.faults == 1
    assert res.bytes_accepted == res.bytes_on_case == size == _size(nginx_dav.home / bundle.name)
    assert 0 < res.bytes_resent < size  # the part of the cut attempt that the socket had accepted
    assert res.bytes_sent == size + res.bytes_resent
    assert f"{size} bytes accepted by the server, sent {res.bytes_sent} bytes ({res.bytes_resent} of them" in (
        res.summary()
    )
    st = upload_status(bundle)["destinations"][0]
    assert (st["bytes_sent_total"], st["bytes_resent_total"]) == (res.bytes_sent, res.bytes_resent)


def test_interrupted_parts_upload_resends_only_missing_parts(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
) -> None:
    bundle = link_bundle(bundle_src, tmp_path / "b")
    n = -(-_size(bundle) // PART)
    url = f"https://127.0.0.1:{proxy.port}/home/"
    proxy.cut_after_bytes(int(7.5 * MiB))  # in the middle of part 8
    with pytest.raises(UploadError):
        _up(bundle, nginx_dav, url=url, retries=0, part_size=PART)
    st = upload_status(bundle)["destinations"][0]
    assert st["parts_done"] == 7 and not st["complete"] and st["bytes_done"] == 7 * PART
    res = _up(bundle, nginx_dav, url=url, retries=0)  # the re-run needs no --part-size: the layout is kept
    assert res.complete and res.parts_skipped == 7 and res.resumed_from == 7 * PART
    assert res.bytes_accepted == _size(bundle) - 7 * PART
    puts = [ln.split()[2] for ln in _puts(nginx_dav) if " 201 " in ln]
    assert len(puts) == len(set(puts)) == n + 1  # every part stored exactly once
    assert _reassembled_sha(nginx_dav.home, bundle.name) == sha256_of(bundle_src)
    total_resent = upload_status(bundle)["destinations"][0]["bytes_resent_total"]
    assert 0 < total_resent <= PART


def test_ctrl_c_keeps_state_and_rerun_resumes(
    nginx_dav: NginxDav,  # noqa: F811
    bundle_src: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = link_bundle(bundle_src, tmp_path / "b")
    n = -(-_size(bundle) // PART)
    real_read = parts_mod.PartReader.read
    budget = {"left": 5 * MiB + 4096}

    def interrupting_read(self: parts_mod.PartReader, k: int = -1) -> bytes:
        data = real_read(self, k)
        budget["left"] -= len(data)
        if budget["left"] < 0:
            raise KeyboardInterrupt
        return data

    monkeypatch.setattr(parts_mod.PartReader, "read", interrupting_read)
    with pytest.raises(Interrupted) as ei:
        _up(bundle, nginx_dav, part_size=PART)
    assert f"5/{n} parts" in ei.value.message
    monkeypatch.setattr(parts_mod.PartReader, "read", real_read)
    res = _up(bundle, nginx_dav, part_size=PART)
    assert res.complete and res.parts_skipped == 5
    assert _reassembled_sha(nginx_dav.home, bundle.name) == sha256_of(bundle_src)


def test_refused_and_stalled_connections_are_retried(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
) -> None:
    bundle = link_bundle(bundle_src, tmp_path / "b")
    url = f"https://127.0.0.1:{proxy.port}/home/"
    proxy.refuse_next(2)  # accepted and reset at once: a network failure, not a wrong address
    proxy.cut_after_bytes(2 * MiB + 100, action="stall")  # a black-holed connection: only a timeout shows it
    res = _up(bundle, nginx_dav, url=url, retries=4, timeout=1.5)
    assert res.complete and res.attempts_failed == 3
    assert proxy.refused == 2 and proxy.faults == 1
    proxy.unstall()
    assert sha256_of(nginx_dav.home / bundle.name) == sha256_of(bundle_src)


def _cut_runs(
    srv: NginxDav, proxy: FaultProxy, bundle_src: Path, tmp_path: Path, runs: int, part: int | None
) -> dict[str, float]:
    rng = random.Random(SEED + (part or 0))
    want = sha256_of(bundle_src)
    size = _size(bundle_src)
    unit = part or size  # what one cut may cost: one PUT's body
    # one clean run through the proxy measures the bytes a cut point is drawn from
    before = proxy.bytes_up
    clean = _up(link_bundle(bundle_src, tmp_path / "clean"), srv, url=f"https://127.0.0.1:{proxy.port}/home/clean/",
                part_size=part)
    assert clean.complete
    clean_up = proxy.bytes_up - before
    worst = total_resent = total_sent = 0
    for i in range(runs):
        bundle = link_bundle(bundle_src, tmp_path / f"run{i}")
        url = f"https://127.0.0.1:{proxy.port}/home/run{i}/"
        point = rng.randrange(1, clean_up)
        rerun_mode = i % 2 == 1  # odd runs: no retries, the user re-runs the command
        faults0, up0 = proxy.faults, proxy.bytes_up
        proxy.cut_after_bytes(point, direction="up")
        calls = 0
        while True:
            calls += 1
            assert calls <= 3, f"run {i} (cut at {point}) did not complete"
            try:
                res = _up(bundle, srv, url=url, retries=0 if rerun_mode else 3, part_size=part)
            except UploadError:
                assert rerun_mode
                continue
            break
        st = upload_status(bundle)["destinations"][0]
        assert res.complete and res.bytes_on_case == size, f"run {i}"
        assert proxy.faults - faults0 == 1 and not proxy.armed
        server = srv.home / f"run{i}"
        got = _reassembled_sha(server, bundle.name) if part else sha256_of(server / bundle.name)
        assert got == want, f"run {i} cut at {point}"
        resent, sent = st["bytes_resent_total"], st["bytes_sent_total"]
        assert sent == size + resent, f"run {i}: every byte sent twice is counted as re-sent"
        assert resent <= unit, f"run {i}: {resent} bytes re-sent for one cut"
        # independent check on the wire: at most one more PUT body plus one new TLS connection's overhead
        assert proxy.bytes_up - up0 <= clean_up + unit + 64 * 1024, f"run {i}"
        worst, total_resent, total_sent = max(worst, resent), total_resent + resent, total_sent + sent
    return {"size": size, "clean_up": clean_up, "worst": worst, "mean": total_resent / runs,
            "sent_per_accepted": total_sent / (runs * size)}


def _report(label: str, runs: int, out: dict[str, float]) -> None:
    print(
        f"https {label}, {runs} cuts: bundle {out['size']:.0f} bytes, re-sent per cut worst {out['worst']:.0f}, "
        f"mean {out['mean']:.0f}; bytes sent per byte accepted {out['sent_per_accepted']:.3f}"
    )


@pytest.mark.parametrize("part", [None, PART], ids=["single-put", "parts"])
def test_random_cut_points_sample(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
    part: int | None,
) -> None:
    _report("single PUT" if part is None else "parts", 5, _cut_runs(nginx_dav, proxy, bundle_src, tmp_path, 5, part))


@pytest.mark.slow
@pytest.mark.parametrize("part", [None, PART], ids=["single-put", "parts"])
def test_random_cut_points_full(
    nginx_dav: NginxDav,  # noqa: F811
    proxy: FaultProxy,
    bundle_src: Path,
    tmp_path: Path,
    part: int | None,
) -> None:
    _report("single PUT" if part is None else "parts", 20, _cut_runs(nginx_dav, proxy, bundle_src, tmp_path, 20, part))


def test_unknown_ca_is_refused(nginx_dav: NginxDav, bundle_src: Path, tmp_path: Path) -> None:  # noqa: F811
    other = make_ca(tmp_path / "other-ca", "some other CA")
    bundle = link_bundle(bundle_src, tmp_path / "b")
    for ca in (other.cert_path, None):  # a wrong CA file, and the system trust store
        with pytest.raises(UploadError) as ei:
            _up(bundle, nginx_dav, ca_bundle=ca, retries=5, backoff=1.0)
        assert "TLS verification" in ei.value.message and "--ca-bundle" in ei.value.hint
        assert ei.value.exit_code == 22
    assert nginx_dav.access_lines() == []  # never retried, nothing sent
