"""Uploads through a real HTTP proxy (tinyproxy on loopback): CONNECT tunnel from HTTPS_PROXY, TLS verified end
to end against the case server's own certificate, proxy credentials from the URL and never written, NO_PROXY
honoured, and the summary naming the proxy. https PUT against the real nginx; tus against the tus test server.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.errors import CollectorError
from collector.secrets import Secret
from collector.upload import upload_bundle, upload_status
from collector.upload.common import UploadResult
from collector.upload.state import state_path
from tests.helpers.bundles import link_bundle, make_bundle, sha256_of
from tests.servers.nginx_dav import CASE, TOKEN, NginxDav, make_ca, nginx_dav  # noqa: F401  (fixture)
from tests.servers.ports import free_port
from tests.servers.tinyproxy import TinyProxy, start_tinyproxy
from tests.servers.tus import TusServer, tus_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.servers

MiB = 1024 * 1024
PROXY_USER, PROXY_PASSWORD = "ops", "Px-9vQ2mL7kR4t"


@pytest.fixture(autouse=True)
def _clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def bundle_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("bundle-src"), 3 * MiB, 11)


@pytest.fixture
def bundle(bundle_src: Path, tmp_path: Path) -> Path:
    return link_bundle(bundle_src, tmp_path / "b")


@pytest.fixture
def tinyproxy(nginx_dav: NginxDav, tmp_path: Path) -> Iterator[TinyProxy]:  # noqa: F811
    p = start_tinyproxy(tmp_path, connect_ports=[nginx_dav.port])
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def authproxy(nginx_dav: NginxDav, tmp_path: Path) -> Iterator[TinyProxy]:  # noqa: F811
    p = start_tinyproxy(tmp_path, connect_ports=[nginx_dav.port], auth=(PROXY_USER, PROXY_PASSWORD))
    try:
        yield p
    finally:
        p.stop()


def _up(bundle: Path, to: str, ca: Path, **kw: object) -> UploadResult:
    args: dict[str, object] = {"to": to, "case": CASE, "token": Secret(TOKEN), "ca_bundle": ca, "progress": False,
                               "backoff": 1.0, "retries": 5, "timeout": 10.0}
    args.update(kw)
    return upload_bundle(bundle, **args)  # type: ignore[arg-type]


def test_https_put_goes_through_the_proxy_tunnel(
    nginx_dav: NginxDav, tinyproxy: TinyProxy, bundle: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", tinyproxy.url)
    res = _up(bundle, nginx_dav.url, nginx_dav.ca_path)
    assert res.complete and sha256_of(nginx_dav.home / bundle.name) == sha256_of(bundle)
    assert tinyproxy.connects() == [f"127.0.0.1:{nginx_dav.port}"]  # one tunnel, to the case server
    assert res.proxy == tinyproxy.shown and f"via proxy {tinyproxy.shown}" in res.summary()
    assert upload_status(bundle)["destinations"][0]["complete"]


def test_tls_is_verified_end_to_end_through_the_proxy(
    nginx_dav: NginxDav, tinyproxy: TinyProxy, bundle: Path, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The certificate checked is the case server's, inside the tunnel: another CA fails at once, nothing sent."""
    monkeypatch.setenv("HTTPS_PROXY", tinyproxy.url)
    other = make_ca(tmp_path / "other", "not the server's CA")
    t0 = time.monotonic()
    with pytest.raises(CollectorError) as ei:
        _up(bundle, nginx_dav.url, other.cert_path)
    assert time.monotonic() - t0 < 1.0 and ei.value.exit_code == 22 and "TLS verification" in ei.value.message
    assert tinyproxy.connects() == [f"127.0.0.1:{nginx_dav.port}"] and nginx_dav.access_lines() == []


def test_proxy_credentials_from_the_url_are_used_and_never_written(
    nginx_dav: NginxDav, authproxy: TinyProxy, bundle: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("https_proxy", authproxy.url)
    res = _up(bundle, nginx_dav.url, nginx_dav.ca_path)
    assert res.complete and res.proxy == authproxy.shown
    for text in (res.summary(), json.dumps(res.to_json()), state_path(bundle).read_text(), caplog.text, repr(res)):
        assert PROXY_PASSWORD not in text and TOKEN not in text


@pytest.mark.parametrize("cred", [f"{PROXY_USER}:wrong-one@", ""], ids=["wrong-password", "none"])
def test_refused_proxy_credentials_are_an_auth_error_at_once(
    nginx_dav: NginxDav, authproxy: TinyProxy, bundle: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    cred: str,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://{cred}127.0.0.1:{authproxy.port}")
    t0 = time.monotonic()
    with pytest.raises(CollectorError) as ei:
        _up(bundle, nginx_dav.url, nginx_dav.ca_path)
    assert time.monotonic() - t0 < 1.0 and ei.value.exit_code == 22
    assert "refused the proxy credentials (HTTP 40" in ei.value.message and "HTTPS_PROXY" in ei.value.hint
    assert "wrong-one" not in f"{ei.value.message} {ei.value.hint}"
    assert len(authproxy.connects()) == 1 and nginx_dav.access_lines() == []


def test_a_port_the_proxy_does_not_allow_is_refused_at_once(
    nginx_dav: NginxDav, tmp_path: Path, bundle: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    strict = start_tinyproxy(tmp_path / "strict", connect_ports=[443])  # tinyproxy's usual policy
    try:
        monkeypatch.setenv("HTTPS_PROXY", strict.url)
        t0 = time.monotonic()
        with pytest.raises(CollectorError) as ei:
            _up(bundle, nginx_dav.url, nginx_dav.ca_path)
        assert time.monotonic() - t0 < 1.0 and ei.value.exit_code == 22
        assert f"refused to open a tunnel to 127.0.0.1:{nginx_dav.port} (HTTP 403)" in ei.value.message
        assert "NO_PROXY" in ei.value.hint
    finally:
        strict.stop()


def test_no_proxy_goes_direct(
    nginx_dav: NginxDav, tinyproxy: TinyProxy, bundle: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", tinyproxy.url)
    monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
    res = _up(bundle, nginx_dav.url, nginx_dav.ca_path)
    assert res.complete and res.proxy == "" and "direct" in res.summary()
    assert tinyproxy.connects() == [] and len(nginx_dav.access_lines()) == 1


def test_a_proxy_that_is_not_there_is_a_usage_error(
    nginx_dav: NginxDav, bundle: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free_port()}")
    t0 = time.monotonic()
    with pytest.raises(CollectorError) as ei:
        _up(bundle, nginx_dav.url, nginx_dav.ca_path)
    assert time.monotonic() - t0 < 1.0 and ei.value.exit_code == 2
    assert "the proxy http://127.0.0.1:" in ei.value.message and "connection refused" in ei.value.message


def test_tus_goes_through_the_proxy_tunnel(
    tus_server: TusServer, bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    proxy = start_tinyproxy(tmp_path / "tp", connect_ports=[tus_server.port], auth=(PROXY_USER, PROXY_PASSWORD))
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        res = _up(bundle, tus_server.url, tus_server.ca_path, part_size=256 * 1024)
        assert res.complete and res.mode == "tus" and res.proxy == proxy.shown
        assert sha256_of(tus_server.file_for(bundle.name)) == sha256_of(bundle)
        # one kept-alive tunnel carries OPTIONS, POST and every PATCH
        assert proxy.connects() == [f"127.0.0.1:{tus_server.port}"]
        assert tus_server.store.requests["PATCH"] == -(-bundle.stat().st_size // (256 * 1024))
    finally:
        proxy.stop()


def test_cli_json_names_the_proxy(
    nginx_dav: NginxDav, authproxy: TinyProxy, bundle: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    from typer.testing import CliRunner

    from collector.cli import app

    monkeypatch.setenv("HTTPS_PROXY", authproxy.url)
    monkeypatch.setenv("CASE_TOKEN", TOKEN)
    out = CliRunner().invoke(app, ["upload", str(bundle), "--case", CASE, "--to", nginx_dav.url, "--token-env",
                                   "CASE_TOKEN", "--ca-bundle", str(nginx_dav.ca_path), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["ok"] and doc["proxy"] == authproxy.shown and doc["bytes_accepted"] == bundle.stat().st_size
    assert PROXY_PASSWORD not in out.output and TOKEN not in out.output
