"""One definition per platform of what switches debug on and off (the `debug:` section of a platform file).

Patterns use CLI-manual notation: `deb[ug]` matches `deb`, `debu` and `debug`; words are separated by blanks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ._base import Data

_WORD = re.compile(r"^([^\[\]\s]+)(?:\[([^\[\]\s]+)\])?$")

DebugChange = Literal["on", "off"]


def _word_regex(word: str) -> tuple[str, str]:
    """(regex, full word) for one pattern word: `deb[ug]` -> (`deb(?:u(?:g)?)?`, `debug`)."""
    m = _WORD.match(word)
    if m is None:
        raise ValueError(f"bad pattern word {word!r}: write it as WORD or PREFIX[REST], e.g. deb[ug]")
    head, tail = m.group(1), m.group(2) or ""
    regex = ""
    for ch in reversed(tail):
        regex = f"(?:{re.escape(ch)}{regex})?"
    return re.escape(head) + regex, head + tail


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> tuple[re.Pattern[str], str]:
    """The regex matching a command that starts with the pattern's words, and the pattern written out in full."""
    parts = [_word_regex(w) for w in pattern.split()]
    if not parts:
        raise ValueError("empty debug pattern")
    regex = r"\s+".join(r for r, _ in parts)
    return re.compile(rf"^{regex}(?=\s|$)"), " ".join(full for _, full in parts)


def _check_patterns(value: list[str]) -> list[str]:
    for pattern in value:
        compile_pattern(pattern)
    return value


Patterns = Annotated[list[str], AfterValidator(_check_patterns)]


class DebugSpec(Data):
    """Commands that switch debug on and off, and what cleanup sends to switch it all off."""

    on: Patterns = Field(default=[], description="commands that switch debug on, e.g. 'deb[ug]'")
    off: Patterns = Field(default=[], description="commands that switch debug off, e.g. 'u[ndebug]', 'no deb[ug]'")
    all_off: list[str] = Field(default=[], description="commands that switch all debugging off (undebug all)")
    monitor_off: list[str] = Field(default=[], description="sent after all_off: stop copying logs to the session")
    negation: str | None = Field(
        default=None, description="without all_off: switch one debug off by prefixing it with this (FRR: 'no')"
    )


def normalise(command: str, case_sensitive: bool) -> str:
    """Blanks collapsed (tabs included), and lower-cased when the CLI ignores case."""
    text = " ".join(command.split())
    return text if case_sensitive else text.lower()


def change(spec: DebugSpec | None, command: str, case_sensitive: bool) -> DebugChange | None:
    """'on' or 'off' when the command switches debug on or off on this platform, else None."""
    if spec is None:
        return None
    text = normalise(command, case_sensitive)
    if any(compile_pattern(p)[0].match(text) for p in spec.off):
        return "off"
    if any(compile_pattern(p)[0].match(text) for p in spec.on):
        return "on"
    return None


def expand(spec: DebugSpec, command: str, case_sensitive: bool) -> str:
    """The command with its debug words written out in full (`deb zebra events` -> `debug zebra events`)."""
    text = normalise(command, case_sensitive)
    for pattern in spec.on:
        regex, full = compile_pattern(pattern)
        m = regex.match(text)
        if m:
            return full + text[m.end() :]
    return text


def off_for(spec: DebugSpec | None, switched_on: Iterable[str], case_sensitive: bool) -> list[str]:
    """What to send so no debugging stays on: all_off (when the platform has it), else each command negated."""
    if spec is None:
        return []
    if spec.all_off:
        return [*spec.all_off, *spec.monitor_off]
    out: list[str] = []
    if spec.negation:
        for command in reversed(list(switched_on)):
            if change(spec, command, case_sensitive) != "on":
                continue
            negated = f"{spec.negation} {expand(spec, command, case_sensitive)}"
            if negated not in out:
                out.append(negated)
    return [*out, *spec.monitor_off]


__all__ = ["DebugChange", "DebugSpec", "change", "compile_pattern", "expand", "normalise", "off_for"]
