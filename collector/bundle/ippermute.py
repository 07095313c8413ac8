"""Prefix-preserving IP address permutation (Crypto-PAn style) with the address classes the anonymiser keeps.

Output bit i = input bit i XOR PRF(salt, first i bits); the low host bits are kept; public addresses are walked
until they land in public space again, so the mapping is a bijection per class (see anonymize.py for the policy).
"""

from __future__ import annotations

import hashlib
import ipaddress

PRF_CACHE = 200_000  # bounded: memory stays flat on outputs with millions of addresses (full BGP tables)

V4_KEEP = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24", "224.0.0.0/4", "240.0.0.0/4")]
V4_CLASS = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.18.0.0/15",
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
V6_KEEP = [ipaddress.ip_network(n) for n in ("::/8", "fe80::/10", "ff00::/8", "2001:db8::/32")]
V6_CLASS = [ipaddress.ip_network(n) for n in ("fd00::/8", "fc00::/8", "64:ff9b::/96")]


def _is_mask(v: int, bits: int) -> bool:
    full = (1 << bits) - 1
    inv = full ^ v
    return (inv & (inv + 1)) == 0 or (v & (v + 1)) == 0  # ones-then-zeros, or zeros-then-ones


class IpPermutation:
    """The keyed permutation of one bundle: `walk(addr)` maps, `walk(addr, backward=True)` reverses."""

    def __init__(self, salt: bytes, host_bits: dict[int, int]) -> None:
        self.salt = salt
        self.host_bits = host_bits
        self._prf: dict[tuple[int, int, int], int] = {}

    def _bit(self, version: int, i: int, prefix: int) -> int:
        key = (version, i, prefix)
        b = self._prf.get(key)
        if b is None:
            h = hashlib.blake2b(b"%d:%d:%x" % (version, i, prefix), key=self.salt[:64], digest_size=1).digest()
            b = self._prf[key] = h[0] & 1
            if len(self._prf) > PRF_CACHE:
                self._prf.clear()
        return b

    def _permute(self, version: int, value: int, keep: int) -> int:
        bits = 32 if version == 4 else 128
        out = value
        for i in range(keep, bits - self.host_bits[version]):
            if self._bit(version, i, value >> (bits - i)):
                out ^= 1 << (bits - 1 - i)
        return out

    def _unpermute(self, version: int, value: int, keep: int) -> int:
        bits = 32 if version == 4 else 128
        for i in range(keep, bits - self.host_bits[version]):
            if self._bit(version, i, value >> (bits - i)):  # the first i bits are already the original ones
                value ^= 1 << (bits - 1 - i)
        return value

    def walk(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address, *, backward: bool = False) -> str | None:
        """Permute (or un-permute) an address inside its class; None for addresses that are kept as they are.

        Outside the classes the walk repeats until it leaves every kept/class range (cycle walking), so the
        pseudonym of a public address is public and the mapping stays a bijection.
        """
        step = self._unpermute if backward else self._permute
        version, value = addr.version, int(addr)
        keep_nets, class_nets = (V4_KEEP, V4_CLASS) if version == 4 else (V6_KEEP, V6_CLASS)
        if any(addr in n for n in keep_nets) or (version == 4 and _is_mask(value, 32)):
            return None
        cls = next((n for n in class_nets if addr in n), None)
        if cls is not None:
            out = step(version, value, cls.prefixlen)
        else:
            out = step(version, value, 0)
            for _ in range(10_000):
                cand = ipaddress.ip_address(out)
                if not (any(cand in n for n in keep_nets + class_nets) or (version == 4 and _is_mask(out, 32))):
                    break
                out = step(version, out, 0)
        return str(ipaddress.ip_address(out)) if version == 4 else ipaddress.IPv6Address(out).compressed
