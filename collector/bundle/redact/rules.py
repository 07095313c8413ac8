"""The redaction rule table: one named regex per secret form of issue 7 (Cisco, Junos, EOS, NX-OS, Linux).

Each rule names the secret token(s) with groups s1..s3 (bare) or q1..q3 (inside quotes, quotes kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def _tok(n: int) -> str:
    """Cisco-style token: a quoted string (quotes kept) or a run of non-blanks."""
    return rf'(?!"?<redacted-secret-)(?:"(?P<q{n}>[^"\r\n]+)"|(?P<s{n}>[^\s"]+))'


def _jtok(n: int) -> str:
    """Junos-style token: like _tok but a bare token stops at ';'."""
    return rf'(?!"?<redacted-secret-)(?:"(?P<q{n}>[^"\r\n]+)"|(?P<s{n}>[^\s";]+))'


T1, T2, J1 = _tok(1), _tok(2), _jtok(1)
TYPE = r"(?:(?:[0-9]|sha512|sha256|md5|encrypted)\s+)?+"  # Cisco/EOS encryption type before the value
WORDS_AFTER_PASSWORD = (
    r"(?!encryption\b|recovery\b|policy\b|prompt\b|required\b|change|expir|min|max|history\b|length\b|"
    r"strength\b|for\b|is\b|of\b|set\b|:|<redacted)"
)


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[bytes]
    literals: tuple[bytes, ...]  # a line can only match if one of these occurs in it (fast gate)
    trigger: str = ""  # regex that finds candidate lines in a block (defaults to the literals)
    strict_only: bool = False
    groups: tuple[str, ...] = field(default=())
    generic: bool = False  # runs only when no earlier rule matched the line


def rule(name: str, literals: list[str], regex: str, *, trigger: str = "", strict_only: bool = False,
         flags: int = 0, generic: bool = False) -> Rule:
    pat = re.compile(regex.encode(), flags)
    groups = tuple(g for g in pat.groupindex if g[0] in "sq" and g[1:].isdigit())
    if not groups:
        raise ValueError(f"rule {name} names no secret group")
    return Rule(name, pat, tuple(s.encode() for s in literals), trigger, strict_only, groups, generic)


# Order matters: when two rules claim overlapping bytes, the earlier rule wins (specific before generic).
RULES: list[Rule] = [
    rule("enable-secret", ["enable"],
         rf"\benable\s+(?:algorithm-type\s+\S+\s+)?(?:secret|password)(?:\s+level\s+\d+)?\s+{TYPE}{T1}"),
    rule("username-secret", ["username"],
         rf"\busername\s+\S+.*?\b(?:secret|password)\s+{TYPE}(?!role\b){T1}"),
    rule("junos-encrypted-password", ["encrypted-password"], rf"\bencrypted-password\s+{J1}"),
    rule("snmp-community", ["snmp-server community"], rf"\bsnmp-server\s+community\s+{T1}"),
    rule("snmp-host-community", ["snmp-server host"],
         r"\bsnmp-server\s+host\s+\S+(?:\s+vrf\s+\S+)?(?:\s+(?:informs|traps))?(?:\s+version\s+(?:1|2c))?\s+"
         rf"(?!version\b|informs\b|traps\b|use-vrf\b|vrf\b|source-interface\b|filter-vrf\b){T1}"),
    rule("snmp-community-junos", ["community"],
         rf"(?:\bset\s+snmp\s+community\s+{_jtok(1)}|^\s*community\s+{_jtok(2)}(?=\s*\{{))"),
    rule("snmp-community-show", ["Community "], rf"\bCommunity (?:name|Index|SecurityName):\s*{T1}"),
    rule("snmpv3-auth-key", ["snmp"], rf"\bsnmp(?:-server)?\s+user\b.*?\bauth\s+(?:md5|sha\S*)\s+{T1}"),
    rule("snmpv3-priv-key", ["snmp"],
         rf"\bsnmp(?:-server)?\s+user\b.*?\bpriv\s+(?:(?:3des|des\S*|aes\S*)\s+(?:(?:128|192|256)\s+)?+)?+{T1}"),
    rule("junos-snmpv3-key", ["privacy-", "authentication-password"],
         rf"\b(?:privacy-key|privacy-password|authentication-password)\s+{J1}"),
    rule("aaa-server-key", ["tacacs", "radius", "server-private"],
         rf"\b(?:tacacs-server|radius-server|server-private)\b.*?\bkey\s+(?:[0-9]\s+)?+{T1}"),
    rule("aaa-key-line", ["key"],
         rf"^\s*key\s+(?!chain\b|config-key\b)(?:[0-9]\s+{T1}|(?![0-9]\s)(?!\d+\s*$){T2})"),
    rule("junos-aaa-secret", ["secret"], rf"(?:^\s*secret\s+{_jtok(1)}|\bset\s.*\bsecret\s+{_jtok(2)})"),
    rule("config-key", ["config-key"], rf"\bkey\s+config-key\s+password-encrypt\s+{T1}"),
    rule("ntp-key", ["ntp authentication-key"], rf"\bntp\s+authentication-key\s+\d+\s+\S+\s+(?:[0-9]\s+)?+{T1}"),
    rule("junos-ntp-key", ["value"], rf"\bauthentication-key\s+\d+\s+type\s+\S+\s+value\s+{J1}"),
    rule("ospf-message-digest-key", ["message-digest-key"],
         rf"\bmessage-digest-key\s+\d+\s+md5\s+(?:[0-9]\s+)?+{T1}"),
    rule("authentication-key", ["authentication-key"],
         r"\bauthentication-key\s+(?!\d+\s+(?:md5|sha\S*|type|cmac\S*|hmac\S*)\b)(?:[0-9]\s+)?+" + J1),
    rule("junos-md5-key", ["md5"], rf"\bmd5\s+\d+\s+key\s+{J1}"),
    rule("isis-password", ["password"],
         r"\b(?:isis\s+password|area-password|domain-password)\s+(?:(?:clear|md5|hmac-md5|text)\s+)?+"
         rf"(?:[0-9]\s+)?+{T1}"),
    rule("isis-authentication-key", ["authentication key"], rf"\bauthentication\s+key\s+(?:[0-9]\s+)?+{T1}"),
    rule("key-string", ["key-string"], rf"\bkey-string\s+(?:[0-9]\s+)?+{T1}"),
    rule("hsrp-vrrp-text", ["authentication"],
         rf"(?:\bauthentication\s+text\s+{T1}|\bstandby\s+(?:\d+\s+)?authentication\s+(?!md5\b|text\b){T2})"),
    rule("bgp-neighbor-password", ["password"], rf"\bneighbor\s+\S+\s+password\s+(?:[0-9]\s+)?+{T1}"),
    rule("ike-isakmp-key", ["isakmp"], rf"\bcrypto\s+isakmp\s+key\s+(?:[0-9]\s+)?+{T1}"),
    rule("ike-pre-shared-key", ["pre-shared-key"],
         r"\bpre-shared-key\s+(?:(?:local|remote)\s+)?+(?:address\s+\S+(?:\s+[0-9.]+)?\s+key\s+)?+"
         rf"(?:(?:ascii-text|hexadecimal)\s+)?+(?:[0-9]\s+)?+{J1}"),
    rule("wifi-psk", ["psk"],
         rf"\b(?:wpa-psk\s+(?:ascii|hex)|psk\s+set-key\s+(?:ascii|hex))\s+(?:[0-9]\s+)?+{T1}"),
    rule("wifi-psk-file", ["psk", "passphrase", "sae_password"],
         r'\b(?:psk|wpa_passphrase|sae_password)\s*=\s*(?:"(?P<q1>[^"\r\n]+)"|(?P<s1>\S+))'),
    rule("asa-passwd", ["passwd"], rf"^\s*passwd\s+{T1}"),
    rule("password", ["password"], rf"(?<![\w-])password\s+{WORDS_AFTER_PASSWORD}{TYPE}{T1}", generic=True),
    rule("shadow-hash", [":"],
         r"^[a-z_][a-z0-9_.-]*\$?:!?(?P<s1>[^:\s!*][^:\s]{3,}):\d*:\d*:\d*:\d*:\d*:\d*:",
         trigger=r":\d{0,6}:\d{0,6}:\d{0,6}:\d{0,6}:\d{0,6}:\d{0,6}:"),
    rule("crypt-hash", ["$"], r"(?P<s1>\$(?:1|2[abxy]?|5|6|7|8|9|y|gy|sha1|md5)\$[^\s\"';:,)]{4,})",
         trigger=r"\$(?:1|2[abxy]?|5|6|7|8|9|y|gy|sha1|md5)\$"),
    # strict profile only: generic forms that may hit non-secrets
    rule("generic-secret-assignment", ["=", ":"],
         r"(?i)(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|community)\s*[=:]\s*(?:\"(?P<q1>[^\"\r\n]+)\"|"
         r"(?P<s1>[^\s\"]+))",
         trigger=r"(?i:(?:pass|secret|token|api[_-]?key|community)\s*[=:])", strict_only=True),
    rule("generic-key", ["key"], rf"\bkey\s+(?:[0-9]\s+)?(?!chain\b|config-key\b|\d+\s*$){T1}", strict_only=True,
         generic=True),
]

# Fast gate: every rule above needs one of these substrings in its line (or has its own trigger regex);
# the engine finds them with bytes.find (C speed) so lines without any are never looked at.
TRIGGER_LITERALS = (b"key", b"password", b"passwd", b"secret", b"community", b"Community ", b"snmp", b"psk",
                    b"passphrase", b"authentication")

# Multi-line blocks: handled by the engine's small state machine, counted under these names.
PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]*?)(PRIVATE KEY|CERTIFICATE|PRIVATE KEY BLOCK)-----")
PEM_END = re.compile(rb"-----END [A-Z0-9 ]*-----")
PEM_BODY = re.compile(rb"^(\s*)([A-Za-z0-9+/=]+|Proc-Type:.*|DEK-Info:.*|Comment:.*|Version:.*)(\s*)$")
IOS_CERT_BEGIN = re.compile(rb"^\s*certificate\s+(?:(?:self-signed|ca|rollover|ca\s+rollover)\s+)?[0-9A-Fa-f]+\s*$")
IOS_CERT_BODY = re.compile(rb"^(\s*)([0-9A-Fa-f]{2,8}(?:[ \t]+[0-9A-Fa-f]{2,8})*)(\s*)$")
IOS_CERT_END = re.compile(rb"^\s*quit\s*$")
BLOCK_TRIGGERS = (b"-----BEGIN ", b"certificate")  # literals, like TRIGGER_LITERALS

RULE_PEM_KEY = "pem-private-key"
RULE_PEM_CERT = "pem-certificate"
RULE_IOS_CERT = "ios-certificate-hex"
RULE_CREDENTIAL = "collector-credential"
RULE_KNOWN = "known-secret-elsewhere"

ALL_RULE_NAMES = [r.name for r in RULES] + [RULE_PEM_KEY, RULE_PEM_CERT, RULE_IOS_CERT, RULE_CREDENTIAL, RULE_KNOWN]
