"""Pseudonymisation: prefix preservation, kept ranges, consistency, learned names, and the private map."""

from __future__ import annotations

import ipaddress
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.bundle.anonymize import Anonymizer
from collector.errors import BundleError

SALT = b"s" * 32


def common_prefix(a: str, b: str, bits: int) -> int:
    x = int(ipaddress.ip_address(a)) ^ int(ipaddress.ip_address(b))
    return bits - x.bit_length()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_ipv4_prefix_preservation_property(a: int, b: int) -> None:
    anon = Anonymizer({"ips"}, salt=SALT)
    sa, sb = str(ipaddress.IPv4Address(a)), str(ipaddress.IPv4Address(b))
    ma, mb = anon.map_ip(sa), anon.map_ip(sb)
    # addresses in the same kept/private/public class share exactly as many leading bits after mapping
    same_class = all(
        (ipaddress.ip_address(sa) in net) == (ipaddress.ip_address(sb) in net)
        for net in map(ipaddress.ip_network, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"])
    )
    mapped_public = ma != sa and mb != sb and ipaddress.ip_address(sa).is_global and ipaddress.ip_address(sb).is_global
    if same_class and mapped_public and not _walked(anon, sa) and not _walked(anon, sb):
        assert common_prefix(ma, mb, 32) == common_prefix(sa, sb, 32)


def _walked(anon: Anonymizer, addr: str) -> bool:
    """True when cycle walking moved the address (rare): prefix relations are then not promised."""
    v = int(ipaddress.ip_address(addr))
    return anon._ips._permute(4, v, 0) != int(ipaddress.ip_address(anon.map_ip(addr)))


def test_two_hosts_in_one_24_stay_in_one_24_and_30s_stay_30s() -> None:
    anon = Anonymizer({"ips"}, salt=SALT)
    for a, b, plen in [("10.1.2.3", "10.1.2.200", 24), ("8.8.8.1", "8.8.8.2", 30), ("172.20.5.1", "172.20.5.2", 30),
                       ("203.0.114.9", "203.0.114.77", 24), ("192.168.7.1", "192.168.7.254", 24)]:
        ma, mb = anon.map_ip(a), anon.map_ip(b)
        assert ma != a
        net = ipaddress.ip_network(f"{ma}/{plen}", strict=False)
        assert ipaddress.ip_address(mb) in net, (a, b, ma, mb)
    # different /24s stay different
    assert anon.map_ip("10.1.2.3").rsplit(".", 1)[0] != anon.map_ip("10.1.3.3").rsplit(".", 1)[0]


def test_kept_ranges_and_masks() -> None:
    anon = Anonymizer({"ips"}, salt=SALT)
    for kept in ["127.0.0.1", "0.0.0.0", "255.255.255.0", "255.255.255.252", "0.0.0.255", "224.0.0.5",
                 "169.254.1.1", "128.0.0.0", "::1", "fe80::1", "ff02::5", "2001:db8::1"]:
        assert anon.map_ip(kept) == kept
    private = anon.map_ip("10.20.30.40")
    assert private.startswith("10.") and private != "10.20.30.40" and private.endswith(".40")
    assert ipaddress.ip_address(anon.map_ip("172.16.9.9")) in ipaddress.ip_network("172.16.0.0/12")
    assert ipaddress.ip_address(anon.map_ip("192.168.1.1")) in ipaddress.ip_network("192.168.0.0/16")
    ula = anon.map_ip("fd12:3456:789a::1")
    assert ula.startswith("fd") and ula != "fd12:3456:789a::1"


def test_public_stays_public_and_mapping_is_injective() -> None:
    anon = Anonymizer({"ips"}, salt=SALT)
    rnd = random.Random(1)
    seen: dict[str, str] = {}
    for _ in range(3000):
        a = str(ipaddress.IPv4Address(rnd.getrandbits(32)))
        m = anon.map_ip(a)
        if m in seen and seen[m] != a:
            pytest.fail(f"{a} and {seen[m]} both map to {m}")
        seen[m] = a
        ip = ipaddress.ip_address(a)
        if ip.is_global and m != a:
            assert ipaddress.ip_address(m).is_global or not ipaddress.ip_address(m).is_private


def test_ipv6_prefix_preserved() -> None:
    anon = Anonymizer({"ips"}, salt=SALT)
    a, b = anon.map_ip("2a00:1450:4001:81c::200e"), anon.map_ip("2a00:1450:4001:81c::1")
    assert common_prefix(a, b, 128) >= 64
    assert anon.map_ip("2a00:1450:4001:81c::200e") == a  # stable


def test_salt_makes_it_deterministic_and_secret() -> None:
    a1 = Anonymizer({"ips"}, salt=SALT).map_ip("8.8.8.8")
    a2 = Anonymizer({"ips"}, salt=SALT).map_ip("8.8.8.8")
    b = Anonymizer({"ips"}, salt=b"t" * 32).map_ip("8.8.8.8")
    assert a1 == a2 and a1 != b
    assert Anonymizer({"ips"}).salt != Anonymizer({"ips"}).salt  # random by default


def test_text_rewrite_keeps_other_text() -> None:
    anon = Anonymizer({"ips"}, salt=SALT)
    line = b" ip address 10.1.2.3 255.255.255.0 ; OID 1.3.6.1.4.1.9.9 ; time 12:30:45 ; mac 00:1a:2b:3c:4d:5e\n"
    out = anon.rewrite(line)
    assert b"10.1.2.3 " not in out and b"255.255.255.0" in out
    assert b"1.3.6.1.4.1.9.9" in out and b"12:30:45" in out and b"00:1a:2b:3c:4d:5e" in out
    assert anon.rewrite(b"<redacted-secret-12>") == b"<redacted-secret-12>"


def test_hostnames_domains_users_learned_and_replaced() -> None:
    anon = Anonymizer({"hostnames", "users"}, salt=SALT)
    anon.learn_bytes(b"hostname CORE-SW-02\nip domain name campus.acme.net\nusername netops privilege 15\n"
                     b"set system host-name EDGE-MX-01\n    user juniper-ops {\n"
                     b"alice:x:1001:1001:Alice:/home/alice:/bin/bash\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
                     b"LEAF-7#show version\n")
    out = anon.rewrite(b"CORE-SW-02#show users\nlogin by netops on core-sw-02.campus.acme.net via EDGE-MX-01\n"
                       b"juniper-ops alice LEAF-7> /usr/bin/bash administratively down netops2\n")
    for name in (b"CORE-SW-02", b"core-sw-02", b"netops ", b"campus.acme.net", b"EDGE-MX-01", b"juniper-ops",
                 b"alice", b"LEAF-7"):
        assert name not in out, name
    assert b"/usr/bin/bash" in out and b"administratively" in out and b"netops2" in out
    assert b"host-1#show users" in out


def test_words_file_replaces_inside_longer_strings() -> None:
    anon = Anonymizer({"words"}, ["Acme", "# comment", ""], salt=SALT)
    assert anon.rewrite(b"description ACME-uplink to acmecorp\n") == b"description word-1-uplink to word-1corp\n"


def test_private_map_has_everything_and_mode_0600(tmp_path: object) -> None:
    from pathlib import Path

    anon = Anonymizer({"ips", "hostnames"}, salt=SALT)
    anon.learn_bytes(b"hostname R9\n")
    anon.rewrite(b"R9 10.9.9.9\n")
    path = anon.write_map(Path(str(tmp_path)) / "m.json")
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    assert data["salt"] == SALT.hex() and data["hostnames"] == {"r9": "host-1"} and "10.9.9.9" in data["ipv4"]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(BundleError):
        Anonymizer({"macs"})


def test_unmap_reverses_every_pseudonym() -> None:
    anon = Anonymizer({"ips"}, salt=SALT)
    rnd = random.Random(5)
    addrs = [str(ipaddress.IPv4Address(rnd.getrandbits(32))) for _ in range(2000)]
    addrs += [str(ipaddress.IPv6Address(rnd.getrandbits(128))) for _ in range(200)]
    addrs += ["10.1.2.3", "172.16.0.1", "192.168.9.9", "fd00::1", "2a00:1450::1", "8.8.8.8"]
    fresh = Anonymizer({"ips"}, salt=SALT)  # only the salt is shared, no cached table
    for a in addrs:
        assert fresh.unmap_ip(anon.map_ip(a)) == ipaddress.ip_address(a).compressed
