"""The streaming normaliser: same text whatever the read boundaries, pager debris and ANSI removed."""

from __future__ import annotations

import random

import pytest

from collector.expect.text import strip_for_match
from collector.session.normalize import Normalizer

PAGING = [" ?--More-- ?", "-- More --"]


def run(data: bytes, sizes: list[int]) -> bytes:
    n = Normalizer(PAGING)
    n.paging_active = True
    out = bytearray()
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        out += n.feed(data[pos : pos + size])
        pos += size
        i += 1
    out += n.flush()
    return bytes(out)


SAMPLE = (
    b"line one\r\nline two\r\n --More-- \x08\x08\x08\x08\x08\x08\x08\x08\x08\x08          \x08\x08\x08\x08\x08\x08"
    b"\x08\x08\x08\x08line three\r\n\x1b[1mbold\x1b[0m text\r\nbare\rcr\r\n"
)
EXPECTED = b"line one\nline two\nline three\nbold text\nbarecr\n"


@pytest.mark.parametrize("size", [1, 2, 3, 7, 13, 64, 4096])
def test_boundaries_do_not_change_the_result(size: int) -> None:
    assert run(SAMPLE, [size]) == EXPECTED


def test_random_boundaries() -> None:
    rng = random.Random(7)
    for _ in range(200):
        sizes = [rng.randint(1, 20) for _ in range(30)]
        assert run(SAMPLE * 3, sizes) == EXPECTED * 3


def test_crlf_only_is_fast_path_identity() -> None:
    data = b"".join(b"%d some text\r\n" % i for i in range(1000))
    assert run(data, [65536]) == data.replace(b"\r\n", b"\n")


def test_strip_for_match_removes_colour_and_cr() -> None:
    assert strip_for_match(b"\x1b[01;32muser@host\x1b[00m:~$ \r") == b"user@host:~$"


def test_screen_text_renders_pager_erase() -> None:
    more = b" --More-- "
    erase = b"\x08" * len(more) + b" " * len(more) + b"\x08" * len(more)
    assert strip_for_match(more + erase + b"R1#") == b"R1#"
    assert strip_for_match(b"line one\n\x08\x08ab") == b"line one\nab"
