"""Consistent pseudonymisation for a bundle: prefix-preserving IPv4/IPv6, hostnames, domains, users, words.

One Anonymizer serves every file and run of a bundle; its private map (with the salt) is written outside it.

Address policy (decided here, documented in the map and the README):
- kept as is: IPv4 0/8, 127/8, 169.254/16, 192.0.0/24, 224/4, 240/4 (incl. 255.255.255.255) and any value that
  is a netmask or wildcard mask (so `255.255.255.0`, `0.0.0.255` stay); IPv6 ::/8, fe80::/10, ff00::/8,
  2001:db8::/32.
- class kept, rest pseudonymised (private stays private): 10/8, 172.16/12, 192.168/16, 100.64/10, 198.18/15,
  192.0.2/24, 198.51.100/24, 203.0.113/24; IPv6 fd00::/8, fc00::/8 (ULA) and 64:ff9b::/96.
- everything else (public) is pseudonymised into public space.
Mapping is Crypto-PAn style (Xu et al. 2001): output bit i = input bit i XOR PRF(salt, first i bits), so two
addresses sharing a k-bit prefix share a k-bit prefix after mapping; the low `host_bits` (8 for IPv4) are kept so
.1 gateways, .255 broadcasts and /30 links stay readable. A public address whose image falls into a kept range
is walked through the permutation again until it lands in public space (a bijection on public space).
The private map lists the addresses seen (up to MAP_LIMIT) and the salt, from which `unmap_ip` reverses any
pseudonym. MAC addresses, AS numbers and serial numbers are not pseudonymised.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets as _secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import BundleError, StoreError
from ..store.fsutil import atomic_write_bytes
from .ippermute import V4_CLASS, V4_KEEP, V6_CLASS, V6_KEEP, IpPermutation

KINDS = ("ips", "hostnames", "users", "words")
TEXT_CACHE = 100_000  # bounded caches keep memory flat on outputs with millions of addresses
MAP_LIMIT = 500_000  # addresses listed in the private map; all of them can be reversed with the salt anyway

_PLACEHOLDER = re.compile(rb"<redacted-secret-\d+>")
_V4_RE = re.compile(rb"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")  # boundaries and octets checked in code
_V6_HINT = re.compile(rb":[0-9A-Fa-f]{0,4}:")  # cheap scan; the token around a hit is then validated
_V6_LEFT = re.compile(rb"[0-9A-Fa-f:]*\Z")
_V6_RIGHT = re.compile(rb"[0-9A-Fa-f:]*")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_NAME_EDGE = _WORD | frozenset(b"-")

_NAME = rb"[A-Za-z][A-Za-z0-9_.-]{0,62}"
_PROMPT_CMDS = (rb"show|sh|terminal|term|enable|exit|dir|more|ping|trace\w*|debug|undebug|no|cli|set|request|"
                rb"file|copy|monitor|bash|run|start|cat|uname|ip|ls|ps|df|sudo|vtysh|configure|logout|quit")
_LEARN = {
    "hostnames": [
        re.compile(rb"^[ \t]*(?:hostname|switchname)[ \t]+(?P<h>" + _NAME + rb")[ \t]*\r?$", re.M),
        re.compile(rb"^[ \t]*(?:set[ \t]+system[ \t]+)?host-name[ \t]+\"?(?P<h>" + _NAME + rb")\"?;?[ \t]*\r?$", re.M),
        re.compile(rb"^(?:[\w.-]+@)?(?P<h>" + _NAME + rb")(?:\([\w/.:-]+\))?[#>%$][ \t]?(?:(?:" + _PROMPT_CMDS
                   + rb")\b[^\r\n]*)?\r?$", re.M),
        re.compile(rb"^\[?[\w.-]+@(?P<h>" + _NAME + rb")[: ][^\r\n]{0,80}?[#$][ \t]", re.M),
    ],
    "domains": [
        re.compile(rb"^[ \t]*(?:ip[ \t]+domain[ -]name|ip[ \t]+domain-name|(?:set[ \t]+system[ \t]+)?domain-name"
                   rb"|dns[ \t]+domain|search)[ \t]+(?:vrf[ \t]+\S+[ \t]+)?\"?(?P<d>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
                   rb"\"?;?[ \t]*\r?$", re.M),
    ],
    "users": [
        re.compile(rb"^[ \t]*username[ \t]+(?P<u>[A-Za-z_][\w.@-]{0,31})\b", re.M),
        re.compile(rb"^[ \t]*user[ \t]+(?P<u>[A-Za-z_][\w.-]{0,31})[ \t]*\{", re.M),
        re.compile(rb"\bset[ \t]+system[ \t]+login[ \t]+user[ \t]+(?P<u>[A-Za-z_][\w.-]{0,31})", re.M),
        re.compile(rb"^\[?(?P<u>[A-Za-z_][\w.-]{0,31})@" + _NAME + rb"[:>#$ ]", re.M),
        re.compile(rb"^(?P<u>[a-z_][\w.-]{0,31}):[^:\r\n]*:(?P<uid>\d+):\d+:[^:\r\n]*:/[^:\r\n]*:[^:\r\n]*\r?$",
                   re.M),  # /etc/passwd (7 fields, home starts with /)
    ],
}
# Never pseudonymised even when seen as a name: CLI words that would wreck the text if replaced.
# Generic account names (admin, monitor, backup...) identify nobody and are everyday CLI words: kept.
_STOP = {b"router", b"switch", b"localhost", b"root", b"show", b"enable", b"config", b"user", b"admin-state",
         b"default", b"none", b"local", b"system", b"interface", b"line", b"console", b"vty", b"ip", b"more",
         b"admin", b"administrator", b"operator", b"monitor", b"backup", b"guest", b"test", b"support", b"readonly",
         b"read-only", b"network", b"service", b"cisco", b"juniper", b"arista", b"daemon", b"bin", b"nobody",
         b"manager", b"super-user", b"remote", b"default-user"}


class Anonymizer:
    """Learns names from the data, then rewrites text consistently; `private_map()` is the Rosetta stone."""

    def __init__(self, kinds: Iterable[str], words: Iterable[str] = (), *, salt: bytes | None = None,
                 host_bits_v4: int = 8, host_bits_v6: int = 0) -> None:
        self.kinds = set(kinds)
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise BundleError(f"unknown anonymize kind(s): {', '.join(sorted(unknown))}",
                              hint=f"choose from: {', '.join(KINDS)}")
        self.salt = salt or _secrets.token_bytes(32)
        self.host_bits = {4: host_bits_v4, 6: host_bits_v6}
        self._ips = IpPermutation(self.salt, self.host_bits)
        self.ip_map: dict[int, dict[str, str]] = {4: {}, 6: {}}
        self.names: dict[str, dict[str, str]] = {"hostnames": {}, "domains": {}, "users": {}, "words": {}}
        self.map_truncated = False
        self._bcache: dict[bytes, bytes] = {}  # textual address -> its rewrite (as in the text)
        self._bounded: list[tuple[bytes, bytes]] = []
        self._loose: list[tuple[bytes, bytes]] = []
        self._dirty = True
        if "words" in self.kinds:
            for w in words:
                w = w.strip()
                if w and not w.startswith("#"):
                    self._add("words", w)

    @property
    def active(self) -> bool:
        return bool(self.kinds)

    # ---- learning -----------------------------------------------------------------------
    def _add(self, kind: str, name: str) -> None:
        key = name.lower()
        table = self.names[kind]
        if key in table or key.encode() in _STOP or len(key) < 2:
            return
        n = len(table) + 1
        table[key] = {"hostnames": f"host-{n}", "domains": f"domain-{n}.example", "users": f"user-{n}",
                      "words": f"word-{n}"}[kind]
        self._dirty = True

    def learn_bytes(self, data: bytes) -> None:
        if "hostnames" in self.kinds:
            for pat in _LEARN["hostnames"]:
                for m in pat.finditer(data):
                    self._add_host(m.group("h").decode("ascii", "replace"))
            for pat in _LEARN["domains"]:
                for m in pat.finditer(data):
                    self._add("domains", m.group("d").decode("ascii", "replace"))
        if "users" in self.kinds:
            for pat in _LEARN["users"]:
                for m in pat.finditer(data):
                    if "uid" in pat.groupindex and not 1000 <= int(m.group("uid")) < 60000:
                        continue
                    self._add("users", m.group("u").decode("ascii", "replace"))

    def _add_host(self, name: str) -> None:
        name = name.rstrip(".")
        if not name or name[0].isdigit():
            return
        try:
            ipaddress.ip_address(name)
            return
        except ValueError:
            pass
        self._add("hostnames", name)

    def learn(self, src: BinaryIO, block: int = 1 << 20) -> None:
        carry = b""
        while True:
            data = src.read(block)
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"\n") + 1 or len(data)
            self.learn_bytes(data[:cut])
            carry = data[cut:][-4096:]
        if carry:
            self.learn_bytes(carry)

    def learn_target(self, host: str | None, user: str | None) -> None:
        if host and "hostnames" in self.kinds:
            self._add_host(host)
        if user and "users" in self.kinds:
            self._add("users", user)

    # ---- IP mapping ---------------------------------------------------------------------
    def unmap_ip(self, text: str) -> str:
        """The real address behind a pseudonym (needs the same salt): how the private map is never incomplete."""
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            return text
        return self._ips.walk(addr, backward=True) or text

    def map_ip(self, text: str) -> str:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            return text
        version = addr.version
        table = self.ip_map[version]
        cached = table.get(str(addr)) if table else None
        if cached is not None:
            return cached
        walked = self._ips.walk(addr)
        if walked is None:
            return text
        mapped = walked
        if len(table) < MAP_LIMIT:
            table[str(addr)] = mapped
        else:
            self.map_truncated = True
        return mapped

    # ---- rewriting ---------------------------------------------------------------------
    def _protected(self, data: bytes) -> list[tuple[int, int]]:
        if b"<redacted-secret-" not in data:
            return []
        return [m.span() for m in _PLACEHOLDER.finditer(data)]

    def rewrite(self, data: bytes) -> bytes:
        if not self.kinds:
            return data
        if "ips" in self.kinds:
            data = self._rewrite_v4(data)
            if b":" in data:
                data = self._rewrite_v6(data)
        if self._dirty:
            self._rebuild_names()
        if self._bounded or self._loose:
            data = self._rewrite_names(data)
        return data

    def _remember(self, raw: bytes, mapped: bytes) -> bytes:
        if len(self._bcache) > TEXT_CACHE:
            self._bcache.clear()
        self._bcache[raw] = mapped
        return mapped

    def _rewrite_v4(self, data: bytes) -> bytes:
        out: list[bytes] = []
        last = 0
        n = len(data)
        for m in _V4_RE.finditer(data):
            s, e = m.span()
            if (s > 0 and (data[s - 1] in _WORD or data[s - 1] == 46)) or (e < n and data[e] in _WORD) or (
                    e + 1 < n and data[e] == 46 and 48 <= data[e + 1] <= 57):
                continue
            raw = m.group(0)
            mapped = self._bcache.get(raw)
            if mapped is None:
                parts = raw.split(b".")
                if any(int(p) > 255 or (len(p) > 1 and p[0] == 48) for p in parts):
                    continue
                mapped = self._remember(raw, self.map_ip(raw.decode()).encode())
            out.append(data[last:s])
            out.append(mapped)
            last = e
        if not out:
            return data
        out.append(data[last:])
        return b"".join(out)

    def _rewrite_v6(self, data: bytes) -> bytes:
        out: list[bytes] = []
        last = 0
        n = len(data)
        for m in _V6_HINT.finditer(data):
            i = m.start()
            if i < last:
                continue
            left = _V6_LEFT.search(data, max(0, i - 40), i)
            s = left.start() if left else i
            right = _V6_RIGHT.match(data, i)
            e = right.end() if right else m.end()
            if s < last:
                continue
            token = data[s:e]
            if e - s > 39 or (b"::" not in token and token.count(b":") != 7):
                continue
            if (s > 0 and (data[s - 1] in _WORD or data[s - 1] == 46)) or (
                    e < n and (data[e] in _WORD or data[e] == 46)):
                continue
            mapped_b = self._bcache.get(token)
            if mapped_b is None:
                text = token.decode()
                mapped = self.map_ip(text)
                mapped_b = self._remember(token, (mapped.upper() if text.isupper() else mapped).encode())
            if mapped_b == token:
                continue
            out.append(data[last:s])
            out.append(mapped_b)
            last = e
        if not out:
            return data
        out.append(data[last:])
        return b"".join(out)

    def _rebuild_names(self) -> None:
        bounded: dict[bytes, bytes] = {}
        for kind in ("hostnames", "domains", "users"):
            for name, pseudo in self.names[kind].items():
                bounded.setdefault(name.encode(), pseudo.encode())
        self._bounded = sorted(bounded.items(), key=lambda kv: len(kv[0]), reverse=True)
        self._loose = sorted(((n.encode(), p.encode()) for n, p in self.names["words"].items()),
                             key=lambda kv: len(kv[0]), reverse=True)
        self._dirty = False

    def _rewrite_names(self, data: bytes) -> bytes:
        low = data.lower()
        n = len(data)
        hits: list[tuple[int, int, bytes]] = []
        for names, bounded in ((self._bounded, True), (self._loose, False)):
            for name, pseudo in names:
                i = low.find(name)
                while i >= 0:
                    e = i + len(name)
                    if not bounded or (
                            (i == 0 or data[i - 1] not in _NAME_EDGE) and (e >= n or data[e] not in _NAME_EDGE)):
                        hits.append((i, e, pseudo))
                    i = low.find(name, e)
        if not hits:
            return data
        taken = self._protected(data)
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        out: list[bytes] = []
        last = 0
        for s, e, pseudo in hits:
            if s < last or any(ps < e and s < pe for ps, pe in taken):
                continue
            out.append(data[last:s])
            out.append(pseudo)
            last = e
        out.append(data[last:])
        return b"".join(out)

    def text(self, s: str) -> str:
        return self.rewrite(s.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")

    def stream(self, src: BinaryIO, dst: BinaryIO, block: int = 1 << 20) -> None:
        carry = b""
        while True:
            data = src.read(block)
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"\n") + 1 or len(data)
            dst.write(self.rewrite(data[:cut]))
            carry = data[cut:]
        if carry:
            dst.write(self.rewrite(carry))

    # ---- the private map ----------------------------------------------------------------
    def private_map(self) -> dict[str, Any]:
        return {
            "format": 1,
            "warning": "PRIVATE: translates pseudonyms back to real values; never send this file with the bundle",
            "kinds": sorted(self.kinds),
            "salt": self.salt.hex(),
            "policy": {"ipv4_host_bits_kept": self.host_bits[4], "ipv6_host_bits_kept": self.host_bits[6],
                       "kept": [str(n) for n in V4_KEEP + V6_KEEP] + ["netmasks and wildcard masks"],
                       "class_kept": [str(n) for n in V4_CLASS + V6_CLASS]},
            "ip_note": "every pseudonymised address can be turned back with the salt: "
                       "collector.bundle.Anonymizer({'ips'}, salt=bytes.fromhex(SALT)).unmap_ip(ADDRESS)",
            "ip_map_truncated": self.map_truncated,
            "ipv4": dict(self.ip_map[4]),
            "ipv6": dict(self.ip_map[6]),
            **{k: dict(v) for k, v in self.names.items()},
        }

    def counts(self) -> dict[str, int]:
        return {"ipv4": len(self.ip_map[4]), "ipv6": len(self.ip_map[6]),
                **{k: len(v) for k, v in self.names.items()}}

    def write_map(self, path: Path) -> Path:
        """Write the private map with mode 0600, atomically; the caller keeps it outside the bundle."""
        data = (json.dumps(self.private_map(), indent=2) + "\n").encode()
        try:
            atomic_write_bytes(path, data, mode=0o600)  # mkstemp creates it 0600: never readable by others
        except StoreError as exc:
            raise BundleError(f"cannot write the private map {path}: {exc.message}") from exc
        return path
