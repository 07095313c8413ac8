"""Redaction rules one by one: the secret token is replaced, the rest of the line is byte-identical."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.bundle.redact import LiveRedactor, Redactor, engine
from collector.errors import UsageError
from collector.secrets import Secret

PH = re.compile(rb"<redacted-secret-(\d+)>")

# (rule expected to fire, line with the secret, the secret token(s), space-separated)
CASES = [
    ("enable-secret", "enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0"),
    ("enable-secret", "enable password 7 0822455D0A16", "0822455D0A16"),
    ("enable-secret", "enable secret 0 PlainEnable1", "PlainEnable1"),
    ("enable-secret", "enable algorithm-type scrypt secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0",
     "$9$nhEmQVczB7dqsO$X.HsgL6x1il0"),
    ("enable-secret", "enable password sha512 $6$Ab$Cdefghijk", "$6$Ab$Cdefghijk"),
    ("username-secret", "username bob privilege 15 password 7 094F471A1A0A", "094F471A1A0A"),
    ("username-secret", "username admin privilege 15 secret 8 $8$dsYGNam3K1SIJO$7nv/35M", "$8$dsYGNam3K1SIJO$7nv/35M"),
    ("username-secret", "username admin password 5 $5$Ssqq1234$abcDEF  role network-admin", "$5$Ssqq1234$abcDEF"),
    ("username-secret", "username ops privilege 1 secret 0 EosOpsPlainPw1", "EosOpsPlainPw1"),
    ("junos-encrypted-password", '    encrypted-password "$6$abc$defghij"; ## SECRET-DATA', "$6$abc$defghij"),
    ("snmp-community", "snmp-server community Fr0gLeg RO 10", "Fr0gLeg"),
    ("snmp-community", "snmp-server community NxR0Community group network-operator", "NxR0Community"),
    ("snmp-host-community", "snmp-server host 10.0.0.5 version 2c TrapC0mm", "TrapC0mm"),
    ("snmp-host-community", "snmp-server host 10.40.0.60 traps version 2c NxTrapComm22", "NxTrapComm22"),
    ("snmp-host-community", "snmp-server host 10.60.0.60 vrf MGMT version 2c EosTrapComm", "EosTrapComm"),
    ("snmp-community-junos", "set snmp community JunSetComm2 authorization read-only", "JunSetComm2"),
    ("snmp-community-junos", "    community JunosR0Comm {", "JunosR0Comm"),
    ("snmp-community-show", "Community name: Br4nchR0Comm", "Br4nchR0Comm"),
    ("snmpv3-auth-key", "snmp-server user ops G v3 auth sha AuthK3yOne priv aes 128 PrivK3yOne",
     "AuthK3yOne PrivK3yOne"),
    ("snmpv3-priv-key", "snmp-server user ops G v3 auth sha AuthK3yOne priv aes 128 PrivK3yOne",
     "AuthK3yOne PrivK3yOne"),
    ("snmpv3-priv-key", "snmp-server user a network-admin auth md5 0x12ab priv 0x5678ef localizedkey",
     "0x12ab 0x5678ef"),
    ("junos-snmpv3-key", '  privacy-key "$9$JuSnmpPriv.5/EeFf"; ## SECRET-DATA', "$9$JuSnmpPriv.5/EeFf"),
    ("junos-snmpv3-key", "set snmp v3 usm local-engine user u authentication-password SetAuthPw2026", "SetAuthPw2026"),
    ("aaa-server-key", 'tacacs-server host 10.1.1.1 key 7 "0207165218120E"', "0207165218120E"),
    ("aaa-server-key", "radius-server host 10.0.0.50 auth-port 1812 acct-port 1813 key 7 110A1016", "110A1016"),
    ("aaa-server-key", " server-private 10.30.0.51 key 7 0822455D0A1658", "0822455D0A1658"),
    ("aaa-server-key", "tacacs-server key 7 0207165218120E05", "0207165218120E05"),
    ("aaa-key-line", " key 7 1543595F507F7B7E", "1543595F507F7B7E"),
    ("aaa-key-line", " key RadPlainKey", "RadPlainKey"),
    ("junos-aaa-secret", '            secret "$9$JuTacSecr.Et-2/Kl"; ## SECRET-DATA', "$9$JuTacSecr.Et-2/Kl"),
    ("junos-aaa-secret", 'set system radius-server 10.50.0.51 secret "$9$JuSetRad.11/Aa"', "$9$JuSetRad.11/Aa"),
    ("config-key", "key config-key password-encrypt MasterCfgKey321", "MasterCfgKey321"),
    ("ntp-key", "ntp authentication-key 1 md5 121A0C0411045D5679 7", "121A0C0411045D5679"),
    ("ntp-key", "ntp authentication-key 2 md5 7 EosNtpKey2Md5", "EosNtpKey2Md5"),
    ("junos-ntp-key", 'authentication-key 1 type md5 value "$9$ntpkeyXyz"; ', "$9$ntpkeyXyz"),
    ("ospf-message-digest-key", " ip ospf message-digest-key 1 md5 7 01100F175804", "01100F175804"),
    ("ospf-message-digest-key", "  ip ospf message-digest-key 1 md5 3 9f8e7d6c5b4a3921", "9f8e7d6c5b4a3921"),
    ("authentication-key", " ip ospf authentication-key 7 070C285F4D06", "070C285F4D06"),
    ("authentication-key", '            authentication-key "$9$JuBgpKey.7/Mm"; ## SECRET-DATA', "$9$JuBgpKey.7/Mm"),
    ("authentication-key", '  level 2 hello-authentication-key "$9$JuIsisHello.9/Uu";', "$9$JuIsisHello.9/Uu"),
    ("junos-md5-key", '                    md5 1 key "$9$JuOspfMd5.8/Qq"; ## SECRET-DATA', "$9$JuOspfMd5.8/Qq"),
    ("isis-password", " isis password IsisIfPw2026 level-2", "IsisIfPw2026"),
    ("isis-password", " area-password IsisAreaPw77", "IsisAreaPw77"),
    ("isis-password", " isis password clear FrrIsisPw01", "FrrIsisPw01"),
    ("isis-authentication-key", "   isis authentication key 7 EosIsisIfKey7x", "EosIsisIfKey7x"),
    ("key-string", "  key-string 7 0835495D1D4A4A5C4B", "0835495D1D4A4A5C4B"),
    ("key-string", " standby 1 authentication md5 key-string 7 1511021F07", "1511021F07"),
    ("hsrp-vrrp-text", " vrrp 10 authentication text VrrpTxt77", "VrrpTxt77"),
    ("hsrp-vrrp-text", " standby 1 authentication HsrpPlain9", "HsrpPlain9"),
    ("bgp-neighbor-password", " neighbor 192.0.2.5 password 7 02050D4808095E73", "02050D4808095E73"),
    ("bgp-neighbor-password", "   neighbor LEAFS password 7 EosBgpPgKey7==", "EosBgpPgKey7=="),
    ("ike-isakmp-key", "crypto isakmp key 6 IkeBranchKey2026xQ address 203.0.113.10", "IkeBranchKey2026xQ"),
    ("ike-pre-shared-key", "  pre-shared-key local 0 Ikev2LocalPsk#55", "Ikev2LocalPsk#55"),
    ("ike-pre-shared-key", ' pre-shared-key ascii-text "$9$JuIkePsk.6/Ii"; ## SECRET-DATA', "$9$JuIkePsk.6/Ii"),
    ("ike-pre-shared-key", " pre-shared-key address 10.1.1.1 key KeyringPsk1", "KeyringPsk1"),
    ("wifi-psk", " wpa-psk ascii 7 0110070F5D0A0E1C33", "0110070F5D0A0E1C33"),
    ("wifi-psk", " security wpa psk set-key ascii 0 WlanPskCorp2026!", "WlanPskCorp2026!"),
    ("wifi-psk-file", '    psk="LinuxWifiPsk2026"', "LinuxWifiPsk2026"),
    ("wifi-psk-file", "wpa_passphrase=HostapdPass2026", "HostapdPass2026"),
    ("asa-passwd", "passwd 2KFQnbNIdI.2KYOU encrypted", "2KFQnbNIdI.2KYOU"),
    ("enable-secret", "enable password 8Ry2YjIyt7RRXU24 encrypted", "8Ry2YjIyt7RRXU24"),
    ("password", " password 7 030752180500", "030752180500"),
    ("password", "password FrrVtyPass01", "FrrVtyPass01"),
    ("password", "    password 3 3f4e5d6c7b8a9a0b", "3f4e5d6c7b8a9a0b"),
    ("password", " ppp chap password 7 14141B180F0B", "14141B180F0B"),
    ("shadow-hash", "root:$6$salt$hashhashhash:19000:0:99999:7:::", "$6$salt$hashhashhash"),
    ("shadow-hash", "bob:!$6$LnxBob$Rt5Yu6Io7:19710:0:99999:7:::", "$6$LnxBob$Rt5Yu6Io7"),
    ("crypt-hash", "hash is $6$rounds$abcdefgh in the log", "$6$rounds$abcdefgh"),
]

NOT_SECRETS = [
    "service password-encryption",
    "security passwords min-length 10",
    "aaa authentication login default group tacacs+ local",
    "key chain EIGRP-KEYS",
    " key 1",
    " key 10",
    " ip authentication key-chain eigrp 100 EIGRP-KEYS",
    " authentication key-chain ISIS-KC level-2",
    " ip ospf authentication message-digest",
    " area 0 authentication message-digest",
    "ntp trusted-key 1",
    "ntp server 10.20.0.123 key 1",
    "ntp server 10.40.0.123 use-vrf management key 5",
    "snmp-server host 10.40.0.60 use-vrf management",
    "snmp-server host 10.0.0.9 version 3 priv v3user",
    "snmp-server location Building 4, rack 12",
    "    community BLACKHOLE members 65535:666;",
    "set policy-options community NOEXPORT members no-export",
    "username svc-backup passphrase  lifetime 99999 warntime 14 gracetime 3",
    "    3 Unknown community name",
    "    0 Illegal operation for community name supplied",
    "daemon:*:19650:0:99999:7:::",
    "sshd:!:19650::::::",
    "alice:x:1001:1001:Alice Ops:/home/alice:/bin/bash",
    " crypto pki certificate chain TP-self-signed-4012",
    " rsakeypair TP-self-signed-4012",
    "      certificate api.crt key api.key",
    "aaa group server tacacs+ TACSRV",
    "Password:",
    "% Bad passwords",
    "  5 minute input rate 1000 bits/sec, 2 packets/sec",
    "interface GigabitEthernet0/0",
]


@pytest.mark.parametrize(("rule", "line", "secret"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_replaces_only_the_token(rule: str, line: str, secret: str) -> None:
    r = Redactor()
    raw = line.encode() + b"\r\n"
    out = r.redact_bytes(raw)
    expected = raw
    for s in secret.split(" "):
        assert s.encode() not in out
        expected = expected.replace(s.encode(), r.placeholder(s.encode()))
    assert out == expected  # only the token(s) changed
    assert r.counts[rule] >= 1, dict(r.counts)


@pytest.mark.parametrize("line", NOT_SECRETS)
def test_non_secret_lines_are_untouched(line: str) -> None:
    r = Redactor()
    raw = line.encode() + b"\n"
    assert r.redact_bytes(raw) == raw
    assert sum(r.counts.values()) == 0


def test_same_secret_same_placeholder_and_distinct_secrets_differ() -> None:
    r = Redactor()
    a = r.redact_bytes(b"snmp-server community AlphaComm RO\n")
    b = r.redact_bytes(b"snmp-server host 10.1.1.1 version 2c AlphaComm\nsnmp-server community BetaComm RO\n")
    na = PH.findall(a)
    nb = PH.findall(b)
    assert na[0] == nb[0] and nb[1] != nb[0]
    assert r.distinct_secrets == 2


def test_learned_secret_is_removed_in_free_text_but_not_inside_words() -> None:
    r = Redactor()
    r.learn(io.BytesIO(b"snmp-server community Zebra42x RO\n"))
    out = r.redact_bytes(b"seen Zebra42x here; keep Zebra42xy and aZebra42x\n")
    assert out == b"seen <redacted-secret-1> here; keep Zebra42xy and aZebra42x\n"
    assert r.counts["known-secret-elsewhere"] == 1


def test_collector_credentials_are_removed_anywhere() -> None:
    r = Redactor(extra_secrets=[Secret("Sup3r!Login", "password")])
    out = r.redact_bytes(b"Password: Sup3r!Login\nxxSup3r!Loginyy\n")
    assert b"Sup3r!Login" not in out
    assert r.counts["collector-credential"] == 2


def test_pem_key_block_keeps_structure() -> None:
    r = Redactor()
    block = (b"-----BEGIN RSA PRIVATE KEY-----\r\nMIIEpAIBAAKCAQEA1xyz\r\n\r\nabcdEFG==\r\n"
             b"-----END RSA PRIVATE KEY-----\r\nR1#show clock\r\n")
    out = r.redact_bytes(block)
    assert out.count(b"\r\n") == block.count(b"\r\n")
    assert b"MIIEpAIBAAKCAQEA1xyz" not in out and b"abcdEFG==" not in out
    assert out.startswith(b"-----BEGIN RSA PRIVATE KEY-----\r\n<redacted-secret-1>\r\n\r\n<redacted-secret-1>\r\n")
    assert out.endswith(b"-----END RSA PRIVATE KEY-----\r\nR1#show clock\r\n")
    assert r.counts["pem-private-key"] == 1


def test_pem_body_line_that_looks_like_a_keyword_stays_in_the_block() -> None:
    r = Redactor()
    out = r.redact_bytes(b"-----BEGIN PRIVATE KEY-----\nMIIEvkeyQIBADANBgkqpsk\nsnmpAAsecretB\n"
                         b"-----END PRIVATE KEY-----\n")
    assert out == (b"-----BEGIN PRIVATE KEY-----\n<redacted-secret-1>\n<redacted-secret-1>\n"
                   b"-----END PRIVATE KEY-----\n")


def test_pem_block_on_one_line() -> None:
    r = Redactor()
    line = (b'set security pki local-certificate C certificate "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\nBgkq'
            b'\\n-----END PRIVATE KEY-----\\n"\nshow version\n')
    out = r.redact_bytes(line)
    assert b"MIIEvQIBADAN" not in out and b"Bgkq" not in out
    assert out.endswith(b'<redacted-secret-1>-----END PRIVATE KEY-----\\n"\nshow version\n')
    assert r.counts["pem-private-key"] == 1


def test_truncated_pem_block_returns_to_normal_lines() -> None:
    r = Redactor()
    out = r.redact_bytes(b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\nR1#show run | i secret\n"
                         b"enable secret 0 AfterCut99\n")
    assert b"MIIBszCCAVmgAwIBAgIU" not in out
    assert b"R1#show run | i secret\n" in out
    assert b"AfterCut99" not in out


def test_ios_certificate_hex_block() -> None:
    r = Redactor()
    text = b" certificate self-signed 01\n  3082022B 30820194 A0030201\n  02020101\n  \tquit\nend\n"
    out = r.redact_bytes(text)
    assert out == b" certificate self-signed 01\n  <redacted-secret-1>\n  <redacted-secret-1>\n  \tquit\nend\n"


def test_stream_with_tiny_blocks_matches_whole_input(monkeypatch: pytest.MonkeyPatch) -> None:
    text = b"".join(c[1].encode() + b"\n" for c in CASES)
    text += b"-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n"
    whole = Redactor().redact_bytes(text)
    monkeypatch.setattr(engine, "BLOCK_SIZE", 7)
    out = io.BytesIO()
    Redactor().stream(io.BytesIO(text), out)
    assert out.getvalue() == whole


def test_redaction_is_idempotent() -> None:
    r = Redactor()
    text = b"".join(c[1].encode() + b"\n" for c in CASES)
    once = r.redact_bytes(text)
    again = Redactor().redact_bytes(once)
    assert again == once


def test_huge_line_is_bounded_and_still_redacted() -> None:
    r = Redactor()
    line = b"x" * (3 * engine.MAX_LINE) + b"\nenable secret 0 TailSecret1\n"
    out = r.redact_bytes(line)
    assert out == b"x" * (3 * engine.MAX_LINE) + b"\nenable secret 0 <redacted-secret-1>\n"


def test_profiles() -> None:
    assert Redactor("credentials").redact_bytes(b"enable secret 0 Abcdef12\n") == b"enable secret 0 Abcdef12\n"
    strict = Redactor("strict").redact_bytes(b"API_TOKEN=abc123def\n")
    assert b"abc123def" not in strict
    with pytest.raises(UsageError):
        Redactor("nope")


def test_text_api() -> None:
    assert Redactor().redact_text("enable secret 0 Abcdef12") == "enable secret 0 <redacted-secret-1>"


def test_live_redactor_byte_by_byte_matches_batch() -> None:
    text = b"".join(c[1].encode() + b"\r\n" for c in CASES) + b"-----BEGIN PRIVATE KEY-----\nQUJD\n-----END"
    whole = Redactor().redact_bytes(text)
    live = LiveRedactor()
    out = b"".join(live.feed(text[i:i + 1]) for i in range(len(text))) + live.flush()
    assert out == whole


_CORPUS_TEXT = (b"".join(c[1].encode() + b"\r\n" for c in CASES) + b"".join(n.encode() + b"\n" for n in NOT_SECRETS)
                + b"-----BEGIN EC PRIVATE KEY-----\nQUJD\nREVG\n-----END EC PRIVATE KEY-----\n")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**31))
def test_any_read_size_gives_the_same_bytes_and_line_count(block: int, seed: int) -> None:
    import random

    lines = _CORPUS_TEXT.split(b"\n")
    random.Random(seed).shuffle(lines)
    text = b"\n".join(lines)
    whole = Redactor().redact_bytes(text)
    assert whole.count(b"\n") == text.count(b"\n")

    class Chunky(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            return super().read(block)

    out = io.BytesIO()
    Redactor().stream(Chunky(text), out)
    assert out.getvalue() == whole


def test_every_rule_of_the_default_profile_has_a_case() -> None:
    from collector.bundle.redact import RULES

    assert {r.name for r in RULES if not r.strict_only} <= {c[0] for c in CASES}
