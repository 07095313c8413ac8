"""Output filters for the simulated CLI: `| include RE`, `| exclude RE`, `| begin RE` (IOS words), line by line.

The regex is everything after the filter word (it may contain `|`), as on IOS; LF output in, LF output out. A profile
names its own words (Junos `match`, `except`, `find`) and may quote the regex (`| match "A|B"`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_PIPE = re.compile(r"\s\|\s*(?P<word>[A-Za-z]+)\s+(?P<regex>\S.*?)\s*$")
IOS_WORDS = {"include": "include", "exclude": "exclude", "begin": "begin"}


@dataclass(frozen=True)
class Filter:
    kind: str  # include | exclude | begin
    regex: re.Pattern[bytes]


class BadFilter(ValueError):
    """An unknown filter word or a regex that does not compile."""


def split(line: str, words: dict[str, str] | None = None, quoted: bool = False) -> tuple[str, Filter | None]:
    """(command, filter) of a typed line; (line, None) when it has no filter. `words` maps each filter word (an
    abbreviation works) to include/exclude/begin; with `quoted`, one pair of double quotes around the regex goes."""
    m = _PIPE.search(line)
    if m is None:
        return line, None
    word = m.group("word").lower()
    kind = next((k for w, k in (words or IOS_WORDS).items() if w.startswith(word)), None)
    if kind is None:
        raise BadFilter(word)
    text = m.group("regex")
    if quoted and len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    try:
        regex = re.compile(text.encode())
    except re.error as exc:
        raise BadFilter(str(exc)) from None
    return line[: m.start()], Filter(kind, regex)


def apply(flt: Filter, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The filtered output: whole lines only, in order."""
    begun = False

    def keep(line: bytes) -> bool:
        nonlocal begun
        hit = flt.regex.search(line) is not None
        if flt.kind == "begin":
            begun = begun or hit
            return begun
        return hit == (flt.kind == "include")

    carry = b""
    for chunk in chunks:
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        out = [line + b"\n" for line in data[: max(0, cut - 1)].split(b"\n") if keep(line)] if cut else []
        if out:
            yield b"".join(out)
    if carry and keep(carry):
        yield carry + b"\n"
