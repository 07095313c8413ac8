"""A step's command as a parser looks it up: spaces normalised, `| filter` split off, the verb written out.

Abbreviations follow the platform's own data (read_only: abbreviations, case, verbs); the template index does the rest.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..platforms import Platform, PlatformError, load_platform, platform_lineage

#: netmiko platform names that ntc-templates spells differently (its index names the OS, not the driver)
NTC_NAMES: dict[str, str] = {"huawei": "huawei_vrp", "cisco_wlc": "cisco_wlc_ssh"}


@dataclass(frozen=True)
class Command:
    """`text`: what the parser looks up; `filtered`: the `| ...` part when the output was filtered (or None)."""

    original: str
    text: str
    filtered: str | None = None


@functools.cache
def platform_data(name: str) -> Platform | None:
    try:
        return load_platform(name)
    except PlatformError:
        return None


@functools.cache
def ntc_platforms(name: str) -> tuple[str, ...]:
    """The ntc-templates platform names to try for one of ours: itself (or its ntc spelling), then what it extends."""
    try:
        lineage = platform_lineage(name)
    except PlatformError:  # a broken or unknown platform is the platform loader's business: no parents here
        lineage = [name]
    return tuple(dict.fromkeys(NTC_NAMES.get(n, n) for n in lineage))


def _expand_verb(word: str, platform: Platform) -> str:
    """The verb written out when the platform accepts abbreviations and exactly one known verb starts with it."""
    policy = platform.read_only
    if not policy.abbreviations:
        return word
    known = [*policy.verbs.allow, *policy.verbs.refuse]
    if word in known:
        return word
    candidates = [w for w in known if w.startswith(word)]
    return candidates[0] if len(candidates) == 1 else word


def resolve(platform: str, command: str) -> Command:
    """Normalise `command` the way `platform`'s CLI reads it (see the module docstring)."""
    data = platform_data(platform)
    text = " ".join(command.split())
    filtered: str | None = None
    if "|" in text:
        head, _, tail = text.partition("|")
        text, filtered = head.strip(), tail.strip()
    if data is not None and not data.read_only.case_sensitive:
        text = text.lower()
    words = text.split(" ")
    if data is not None and words and words[0]:
        words[0] = _expand_verb(words[0], data)
    return Command(original=command, text=" ".join(words), filtered=filtered)


__all__ = ["Command", "NTC_NAMES", "ntc_platforms", "platform_data", "resolve"]
