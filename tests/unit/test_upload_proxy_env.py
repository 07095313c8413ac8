"""Which proxy an https/tus upload uses: HTTPS_PROXY/https_proxy, NO_PROXY/no_proxy, credentials from the URL only,
never shown; and the `--to` URL rules (scheme, file-or-directory form, which secret goes with which scheme).
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.errors import UsageError
from collector.upload.destination import check_part_size, check_secrets, parse_destination
from collector.upload.proxy import parse_proxy, proxy_for

ENV = ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV:
        monkeypatch.delenv(var, raising=False)


def test_no_proxy_set_means_direct() -> None:
    assert proxy_for("cxd.cisco.com", 443) is None


def test_https_proxy_and_its_lower_case_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    p = proxy_for("cxd.cisco.com", 443)
    assert p is not None and (p.host, p.port, p.shown, p.authorization) == ("proxy.corp", 3128,
                                                                            "http://proxy.corp:3128", "")
    monkeypatch.setenv("https_proxy", "http://other:8080")  # lower case wins, as curl and requests do
    p = proxy_for("cxd.cisco.com", 443)
    assert p is not None and p.host == "other" and p.port == 8080


def test_http_proxy_alone_is_not_used_for_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    assert proxy_for("cxd.cisco.com", 443) is None


@pytest.mark.parametrize(
    ("no_proxy", "host", "bypass"),
    [
        ("*", "cxd.cisco.com", True),
        ("cisco.com", "cxd.cisco.com", True),
        (".cisco.com", "cxd.cisco.com", True),
        ("cxd.cisco.com", "cxd.cisco.com", True),
        ("isco.com", "cxd.cisco.com", False),
        ("example.com, 127.0.0.1", "127.0.0.1", True),
        ("10.0.0.0/8", "10.1.2.3", True),
        ("10.0.0.0/8", "11.1.2.3", False),
        ("", "cxd.cisco.com", False),
    ],
)
def test_no_proxy(monkeypatch: pytest.MonkeyPatch, no_proxy: str, host: str, bypass: bool) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert (proxy_for(host, 443) is None) is bypass


def test_credentials_come_from_the_url_and_never_show() -> None:
    p = parse_proxy("http://ops%40corp:p%3Ass%20w@proxy.corp:3128")
    assert p.authorization == "Basic " + base64.b64encode(b"ops@corp:p:ss w").decode()
    assert p.shown == "http://proxy.corp:3128" == str(p)
    assert "p:ss w" not in repr(p) and "Basic" not in repr(p)
    assert "p:ss w" in p.secrets  # for the masker


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=3, max_size=30))
def test_any_password_is_kept_out_of_what_is_shown(password: str) -> None:
    p = parse_proxy(f"http://user:{quote(password, safe='')}@proxy.corp:3128")
    clean = parse_proxy("http://proxy.corp:3128")
    assert (p.shown, repr(p), str(p)) == (clean.shown, repr(clean), str(clean)) and password in p.secrets
    assert base64.b64decode(p.authorization[6:]).decode() == f"user:{password}"


@pytest.mark.parametrize(
    ("url", "words"),
    [("https://proxy.corp:3128", "https://"), ("socks5://proxy.corp:1080", "socks5://"),
     ("http://proxy.corp:99999", "not valid"), ("http://:3128", "not valid")],
)
def test_unsupported_proxies_are_usage_errors(url: str, words: str) -> None:
    with pytest.raises(UsageError) as ei:
        parse_proxy(url)
    assert words in ei.value.message and ei.value.exit_code == 2 and "HTTPS_PROXY" in ei.value.hint


def test_bare_host_port_means_http() -> None:
    p = parse_proxy("proxy.corp:3128")
    assert (p.host, p.port, p.shown) == ("proxy.corp", 3128, "http://proxy.corp:3128")
    assert parse_proxy("http://proxy.corp").port == 80


# -- the --to URL ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("to", "scheme", "url"),
    [
        ("https://cxd.cisco.com/home/", "https", "https://cxd.cisco.com/home/"),
        ("https://cxd.cisco.com/home", "https", "https://cxd.cisco.com/home/"),
        ("https://cxd.cisco.com/home/b.tar.gz", "https", "https://cxd.cisco.com/home/"),
        ("HTTPS://CXD.cisco.com:443/home/", "https", "https://cxd.cisco.com:443/home/"),
        ("sftp://694201337@cxd.cisco.com/", "sftp", "sftp://cxd.cisco.com/"),
        ("tus+https://h.example/files/", "tus", "tus+https://h.example/files/"),
        ("https://[::1]:8443/home/", "https", "https://[::1]:8443/home/"),
    ],
)
def test_destinations(to: str, scheme: str, url: str) -> None:
    d = parse_destination(to, "b.tar.gz")
    assert (d.scheme, d.url) == (scheme, url)


@pytest.mark.parametrize(
    ("to", "words"),
    [
        ("http://h/home/", "in clear"),
        ("https://123:s3cr3t@h/home/", "carries a password"),
        ("ftp://h/", "unsupported"),
        ("https://123:s3cr3t/home/", "not valid"),
        ("https:///home/", "unsupported"),
        ("https://h/home/?x=1", "query"),
        ("https://ex ample.com/home/", "host"),
        ("https://bücher.example/home/", "punycode"),
    ],
)
def test_bad_destinations_are_usage_errors(to: str, words: str) -> None:
    with pytest.raises(UsageError) as ei:
        parse_destination(to, "b.tar.gz")
    assert ei.value.exit_code == 2
    assert words in f"{ei.value.message} {ei.value.hint}" and "s3cr3t" not in f"{ei.value.message} {ei.value.hint}"


def test_each_scheme_takes_its_own_secret() -> None:
    check_secrets("https", token=True, password=False)
    check_secrets("tus", token=True, password=False)
    check_secrets("sftp", token=False, password=True)
    check_secrets("sftp", token=False, password=False)  # a key, or the server says no
    for scheme, token, password, hint in [("sftp", True, False, "--password-env"),
                                          ("https", False, True, "--token-env"),
                                          ("tus", False, True, "--token-env"),
                                          ("https", False, False, "--token-env")]:
        with pytest.raises(UsageError) as ei:
            check_secrets(scheme, token=token, password=password)
        assert hint in ei.value.hint and ei.value.exit_code == 2


def test_part_size_rules() -> None:
    check_part_size("https", None)
    check_part_size("https", 64 * 1024)
    check_part_size("tus", 1 << 20)
    for scheme, size in [("sftp", 1 << 20), ("https", 1000)]:
        with pytest.raises(UsageError):
            check_part_size(scheme, size)
