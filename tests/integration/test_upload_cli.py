"""`collector upload` on the command line against the real nginx: exit codes by failure class, `--json` (one
document on stdout, also for `--status` and for failures), verification before sending, secrets never printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from collector.cli import app
from tests.helpers.bundles import link_bundle, make_bundle, sha256_of
from tests.servers.nginx_dav import CASE, TOKEN, NginxDav, nginx_dav  # noqa: F401  (fixture)

pytestmark = pytest.mark.servers


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CASE_TOKEN", TOKEN)
    monkeypatch.setenv("WRONG_TOKEN", "wrong-token-123")


@pytest.fixture(scope="module")
def bundle_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("bundle-src"), 1024 * 1024, 5)


@pytest.fixture
def bundle(bundle_src: Path, tmp_path: Path) -> Path:
    return link_bundle(bundle_src, tmp_path / "b")


def _cli(bundle: Path, srv: NginxDav, *extra: str, to: str | None = None, token_env: str = "CASE_TOKEN") -> Result:
    args = ["upload", str(bundle), "--case", CASE, "--to", to or srv.url, "--ca-bundle", str(srv.ca_path)]
    if token_env:
        args += ["--token-env", token_env]
    return CliRunner().invoke(app, [*args, *extra])


def test_json_upload_and_status_are_one_document_each(nginx_dav: NginxDav, bundle: Path) -> None:  # noqa: F811
    res = _cli(bundle, nginx_dav, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    size = bundle.stat().st_size
    assert doc["ok"] and doc["complete"] and doc["case"] == CASE and doc["mode"] == "single PUT"
    assert (doc["bytes_on_case"], doc["bytes_accepted"], doc["bytes_sent"], doc["bundle_size"]) == (size,) * 4
    assert doc["url"] == nginx_dav.url + bundle.name and doc["proxy"] == ""
    assert sha256_of(nginx_dav.home / bundle.name) == sha256_of(bundle)
    st = CliRunner().invoke(app, ["upload", str(bundle), "--status", "--json"])
    assert st.exit_code == 0
    status = json.loads(st.stdout)
    assert status["started"] and status["destinations"][0]["complete"]
    assert status["destinations"][0]["bytes_done"] == size
    for text in (res.output, st.output):
        assert TOKEN not in text


def test_json_failure_is_one_document_with_the_exit_code(nginx_dav: NginxDav, bundle: Path) -> None:  # noqa: F811
    res = _cli(bundle, nginx_dav, "--json", token_env="WRONG_TOKEN")
    assert res.exit_code == 22
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 22 and "refused the token" in doc["error"]
    assert doc["status"]["destinations"][0]["bytes_done"] == 0
    assert "wrong-token-123" not in res.output


@pytest.mark.parametrize(
    ("extra", "to_suffix", "code", "words"),
    [
        ([], "/uploads/", 2, "HTTP 405"),  # a wrong path: nginx has no DAV there
        (["--part-size", "lots"], None, 2, "--part-size"),
        (["--part-size", "1000"], None, 2, "at least 64 KiB"),
        (["--password-env", "CASE_TOKEN"], None, 2, "--token-env"),
    ],
)
def test_usage_errors_exit_2(
    nginx_dav: NginxDav, bundle: Path, extra: list[str], to_suffix: str | None, code: int, words: str  # noqa: F811
) -> None:
    to = nginx_dav.url.replace("/home/", to_suffix) if to_suffix else None
    res = _cli(bundle, nginx_dav, *extra, to=to, token_env="" if "--password-env" in extra else "CASE_TOKEN")
    assert res.exit_code == code, res.output
    assert words in res.output
    assert not (nginx_dav.home / bundle.name).exists()


def test_wrong_scheme_exits_2(nginx_dav: NginxDav, bundle: Path) -> None:  # noqa: F811
    res = _cli(bundle, nginx_dav, to=nginx_dav.url.replace("https://", "http://"))
    assert res.exit_code == 2 and "in clear" in res.output
    assert nginx_dav.access_lines() == []


def test_a_bundle_failing_verification_exits_21_and_is_not_sent(
    nginx_dav: NginxDav, bundle: Path, tmp_path: Path  # noqa: F811
) -> None:
    bad = tmp_path / "bad" / bundle.name
    bad.parent.mkdir()
    data = bytearray(bundle.read_bytes())
    data[-100] ^= 0xFF
    bad.write_bytes(bytes(data))
    bad.with_name(bad.name + ".sha256").write_bytes(bundle.with_name(bundle.name + ".sha256").read_bytes())
    res = _cli(bad, nginx_dav)
    assert res.exit_code == 21 and "fails verification" in res.output
    assert nginx_dav.access_lines() == []


def test_human_summary_prints_urls_as_text_not_markup(nginx_dav: NginxDav, bundle: Path) -> None:  # noqa: F811
    to = nginx_dav.url + "[bold]x[/bold]/"
    res = _cli(bundle, nginx_dav, to=to)
    assert res.exit_code == 0, res.output
    assert "/home/[bold]x[/bold]/" in res.stdout and "accepted by the server" in res.stdout
