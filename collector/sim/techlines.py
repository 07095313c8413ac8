"""Real-looking lines for generated show output: interfaces, processes, log, register dumps, tables.

Seeded and block-cached: a themed block of about BLOCK bytes is built once per (theme, seed, variant).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache

BLOCK = 16 * 1024
VARIANTS = 8


def iface_lines(rng: random.Random) -> list[str]:
    n = rng.randrange(0, 48)
    name = f"GigabitEthernet{rng.randrange(0, 3)}/0/{n}"
    up = rng.random() > 0.2
    mac = ".".join(f"{rng.randrange(65536):04x}" for _ in range(3))
    pin, pout = rng.randrange(10**9), rng.randrange(10**9)
    return [
        f"{name} is {'up' if up else 'down'}, line protocol is {'up' if up else 'down'}",
        f"  Hardware is Gigabit Ethernet, address is {mac} (bia {mac})",
        "  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,",
        f"     reliability 255/255, txload {rng.randrange(1, 255)}/255, rxload {rng.randrange(1, 255)}/255",
        f"  5 minute input rate {rng.randrange(10**7)} bits/sec, {rng.randrange(10**4)} packets/sec",
        f"  5 minute output rate {rng.randrange(10**7)} bits/sec, {rng.randrange(10**4)} packets/sec",
        f"     {pin} packets input, {pin * rng.randrange(64, 1500)} bytes, 0 no buffer",
        f"     {rng.randrange(1000)} input errors, {rng.randrange(1000)} CRC, 0 frame, 0 overrun, 0 ignored",
        f"     {pout} packets output, {pout * rng.randrange(64, 1500)} bytes, 0 underruns",
    ]


def proc_lines(rng: random.Random) -> list[str]:
    out = []
    for _ in range(8):
        pid = rng.randrange(1, 700)
        rt = rng.randrange(10**7)
        inv = rng.randrange(1, 10**6)
        out.append(
            f"{pid:4d} {rt:12d} {inv:10d} {rt // inv:8d}   {rng.random():.2f}%   {rng.random():.2f}%   "
            f"{rng.random():.2f}%   0 {rng.choice(['IP Input', 'OSPF-1 Hello', 'BGP Router', 'ARP Input', 'CDP'])}"
        )
    return out


def log_lines(rng: random.Random) -> list[str]:
    msgs = [
        "%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/0/{n}, changed state to up",
        "%OSPF-5-ADJCHG: Process 1, Nbr 10.0.{n}.2 on GigabitEthernet0/0/{n} from LOADING to FULL, Loading Done",
        "%SYS-5-CONFIG_I: Configured from console by admin on vty{n} (10.1.1.{n})",
        "%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: admin] [Source: 10.1.1.{n}] [localport: 22]",
    ]
    out = []
    for _ in range(6):
        m = rng.randrange(1, 13)
        day, hh, mm, ss = rng.randrange(1, 29), rng.randrange(24), rng.randrange(60), rng.randrange(60)
        out.append(
            f"{rng.randrange(10**6):06d}: Nov {day:2d} {hh:02d}:{mm:02d}:{ss:02d}.{rng.randrange(1000):03d} UTC: "
            + rng.choice(msgs).format(n=m % 48)
        )
    return out


def register_lines(rng: random.Random) -> list[str]:
    base = rng.randrange(0, 1 << 16) & ~0xF
    return [f"  {base + 16 * i:08X}: " + " ".join(f"{rng.randrange(1 << 32):08X}" for _ in range(4))
            for i in range(8)]


def table_lines(rng: random.Random) -> list[str]:
    out = []
    for _ in range(8):
        mac = ".".join(f"{rng.randrange(65536):04x}" for _ in range(3))
        out.append(f"Internet  10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255):<3}  "
                   f"{rng.randrange(240):>7}   {mac}  ARPA   GigabitEthernet0/0/{rng.randrange(48)}")
    return out


def mixed_lines(rng: random.Random) -> list[str]:
    return rng.choice((iface_lines, proc_lines, log_lines))(rng)


THEMES: dict[str, Callable[[random.Random], list[str]]] = {
    "iface": iface_lines, "proc": proc_lines, "log": log_lines, "registers": register_lines,
    "table": table_lines, "mixed": mixed_lines,
}  # fmt: skip


@lru_cache(maxsize=64)
def themed_block(theme: str, seed: int, variant: int, size: int = BLOCK) -> bytes:
    """At least `size` bytes of whole LF-ended lines in one theme; the same inputs give the same bytes."""
    rng = random.Random(f"{theme}:{seed}:{variant}")
    make = THEMES[theme]
    lines: list[str] = []
    total = 0
    while total < size:
        part = make(rng)
        lines.extend(part)
        total += sum(len(x) + 1 for x in part)
    return ("\n".join(lines) + "\n").encode()
