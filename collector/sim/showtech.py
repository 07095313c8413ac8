"""Deterministic, streaming output generators: `show tech-support`, `seq N`, `yes-bytes N`, blob of N bytes.

Blocks are pre-built once per seed with a seeded RNG and cycled with a cheap per-block header, so
hundreds of MB stream at memory speed without ever holding the whole output.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from functools import lru_cache

BLOCK = 64 * 1024
_VARIANTS = 8


def _iface_lines(rng: random.Random) -> list[str]:
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


def _proc_lines(rng: random.Random) -> list[str]:
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


def _log_lines(rng: random.Random) -> list[str]:
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


@lru_cache(maxsize=8)
def _tech_bodies(seed: int) -> tuple[bytes, ...]:
    """_VARIANTS line-aligned bodies of about BLOCK bytes each."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(_VARIANTS):
        lines: list[str] = []
        size = 0
        while size < BLOCK - 2048:
            part = rng.choice((_iface_lines, _proc_lines, _log_lines))(rng)
            lines.extend(part)
            size += sum(len(x) + 1 for x in part)
        bodies.append(("\n".join(lines) + "\n").encode())
    return tuple(bodies)


def section(title: str, body: bytes) -> bytes:
    """One show tech section in IOS form: dashed title line, blank line, body, blank line."""
    if body and not body.endswith(b"\n"):
        body += b"\n"
    return f"\n------------------ {title} ------------------\n\n".encode() + body


def _exact(chunks: Iterable[bytes], total: int) -> Iterator[bytes]:
    """Cut a chunk stream to exactly `total` bytes, forcing the last byte to LF."""
    left = total
    for c in chunks:
        if left <= 0:
            return
        if len(c) >= left:
            c = c[:left]
            yield c[:-1] + b"\n"
            return
        left -= len(c)
        yield c


def show_tech(total: int, sections: Iterable[tuple[str, bytes]] = (), seed: int = 1) -> Iterator[bytes]:
    """Exactly `total` bytes (LF line endings, ends in LF): the given sections, then generated filler."""

    def chunks() -> Iterator[bytes]:
        pending = bytearray()
        for title, body in sections:
            pending += section(title, body)
            if len(pending) >= BLOCK // 2:
                yield bytes(pending)
                pending.clear()
        bodies = _tech_bodies(seed)
        i = 0
        while True:
            head = f"\n------------------ show interfaces (segment {i:09d}) ------------------\n\n".encode()
            if pending:
                yield bytes(pending) + head + bodies[i % _VARIANTS]
                pending.clear()
            else:
                yield head + bodies[i % _VARIANTS]
            i += 1

    return _exact(chunks(), total)


@lru_cache(maxsize=8)
def _blob_block(seed: int) -> bytes:
    rng = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    lines = ["".join(rng.choices(alphabet, k=63)) for _ in range(BLOCK // 64)]
    return ("\n".join(lines) + "\n").encode()


def blob(total: int, seed: int = 1) -> Iterator[bytes]:
    """Exactly `total` printable bytes in 64-byte lines; block i starts with its index; ends in LF."""
    base = _blob_block(seed)

    def chunks() -> Iterator[bytes]:
        i = 0
        while True:
            yield f"{i:016d}".encode() + base[16:]
            i += 1

    return _exact(chunks(), total)


def yes_bytes(total: int) -> Iterator[bytes]:
    """Like `yes | head -c N`: "y\\n" repeated, cut at exactly N bytes."""
    block = b"y\n" * (BLOCK // 2)
    left = total
    while left > 0:
        c = block if left >= len(block) else block[:left]
        left -= len(c)
        yield c


def seq(n: int) -> Iterator[bytes]:
    """Like coreutils `seq N`: 1..N one per line."""
    step = 10000
    for start in range(1, n + 1, step):
        yield ("\n".join(map(str, range(start, min(start + step, n + 1)))) + "\n").encode()
