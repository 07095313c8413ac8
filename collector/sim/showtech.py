"""Deterministic, streaming output generators: `show tech-support`, `seq N`, `yes-bytes N`, blob of N bytes.

A show tech is a layout of sections, each the output of a command the simulator also runs alone; bodies are
slices of seeded, cached blocks, so hundreds of MB stream at memory speed without holding the whole output.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from .techlines import VARIANTS, themed_block

BLOCK = 64 * 1024
SEPARATOR = "\n------------------ {title} ------------------\n\n"
SECTIONED_FROM = 256  # a smaller show tech is the cut start of one section
MIN_TAIL = 256  # a section is only started when at least this much is left (header + a line)
SECTION_SIZES = (1500, 12000)  # generated section bodies, in bytes (a real show tech's sections vary like this)
CATALOGUE: tuple[tuple[str, str], ...] = (
    ("show interfaces", "iface"),
    ("show processes memory sorted", "proc"),
    ("show stacks", "registers"),
    ("show buffers", "table"),
    ("show ip arp", "table"),
    ("show logging onboard", "log"),
    ("show ip traffic", "table"),
    ("show cdp neighbors detail", "table"),
    ("show ip ospf database", "table"),
    ("show ip bgp summary", "table"),
    ("show mac address-table", "table"),
    ("show spanning-tree", "table"),
    ("show platform", "registers"),
    ("show region", "registers"),
    ("show memory statistics", "proc"),
)
PORT_SECTIONS = "show controllers TenGigabitEthernet{slot}/1/{port}"  # after the catalogue: one per port


def section(title: str, body: bytes) -> bytes:
    """One show tech section in IOS form: dashed title line, blank line, body, blank line."""
    if body and not body.endswith(b"\n"):
        body += b"\n"
    return SEPARATOR.format(title=title).encode() + body


def filler_title(k: int) -> tuple[str, str]:
    """The k-th generated section's command and the theme of its lines."""
    if k < len(CATALOGUE):
        return CATALOGUE[k]
    j = k - len(CATALOGUE)
    return PORT_SECTIONS.format(slot=j // 48, port=j % 48), "registers"


@dataclass(frozen=True)
class TechSection:
    title: str
    size: int  # body bytes
    theme: str | None  # None: a fixed body (a transcript)
    variant: int = 0
    fixed: bytes = b""


def _line_end(block: bytes, target: int) -> int:
    cut = block.rfind(b"\n", 0, target) + 1
    return cut if cut > 0 else target


def _plan(total: int, fixed: tuple[tuple[str, bytes], ...], seed: int) -> list[TechSection]:
    """Fixed sections while they fit, then generated ones; the last takes exactly what is left."""
    rng = random.Random(seed * 1_000_003 + total)
    out: list[TechSection] = []
    left = total
    for title, body in fixed:
        need = len(SEPARATOR.format(title=title)) + len(body)
        if need + MIN_TAIL > left:
            break
        out.append(TechSection(title, len(body), None, fixed=body))
        left -= need
    k = 0
    taken = {title for title, _ in fixed}  # a command with a recorded output is never also a generated section
    while left > 0:
        title, theme = filler_title(k)
        if title in taken:
            k += 1
            continue
        head = len(SEPARATOR.format(title=title))
        variant = rng.randrange(VARIANTS)
        size = _line_end(themed_block(theme, seed, variant), rng.randint(*SECTION_SIZES))
        if left - head - size < MIN_TAIL:
            size = left - head  # the last section: exactly the rest (its last line may be cut, ending in LF)
        out.append(TechSection(title, size, theme, variant))
        left -= head + size
        k += 1
    return out


class TechLayout:
    """A show tech as sections whose outputs, each after its separator, make exactly `total` bytes.

    Each section's command runs alone on the simulator (`output(title)`) and prints exactly its body.
    """

    def __init__(self, total: int, fixed: tuple[tuple[str, bytes], ...] = (), seed: int = 1) -> None:
        self.total = total
        self.seed = seed
        self.sections = _plan(total, fixed, seed) if total >= SECTIONED_FROM else []
        self._index = {" ".join(s.title.lower().split()): i for i, s in enumerate(self.sections)}

    def body(self, i: int) -> bytes:
        s = self.sections[i]
        if s.theme is None:
            return s.fixed
        data = themed_block(s.theme, self.seed, s.variant)[: s.size]
        return data if data.endswith(b"\n") else data[:-1] + b"\n"

    def output(self, title: str) -> bytes | None:
        """What the section's command prints when run alone; None when this show tech has no such section."""
        i = self._index.get(" ".join(title.lower().split()))
        return None if i is None else self.body(i)

    def chunks(self) -> Iterator[bytes]:
        if not self.sections:  # too small for whole sections: the start of a larger show tech
            yield from _exact(tech_layout(4096, (), self.seed).chunks(), self.total)
            return
        pending = bytearray()
        for i, s in enumerate(self.sections):
            pending += SEPARATOR.format(title=s.title).encode()
            pending += self.body(i)
            if len(pending) >= BLOCK:
                yield bytes(pending)
                pending.clear()
        if pending:
            yield bytes(pending)


@lru_cache(maxsize=8)
def tech_layout(total: int, fixed: tuple[tuple[str, bytes], ...] = (), seed: int = 1) -> TechLayout:
    return TechLayout(total, fixed, seed)


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
    """Exactly `total` bytes (LF line endings, ends in LF): the given sections, then generated ones."""
    return tech_layout(total, tuple(sections), seed).chunks()


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
