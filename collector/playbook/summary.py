"""What a library playbook says about itself: what it is for, how long it takes, what it leaves on the device.

The convention lives in the `description:` field: "<purpose>. Takes <time>. Leaves <nothing|debug switched off
again>." (README "Playbook library"); `collector playbooks` shows it as columns and the tests hold every shipped
playbook to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..platforms import Platform
from .guard import iter_commands
from .schema import Playbook

LEAVES = ("nothing", "debug switched off again")
_DESCRIPTION = re.compile(
    r"^(?P<purpose>.+?)\. Takes (?P<takes>(about|up to) [^.]+?)\. "
    r"Leaves (?P<leaves>nothing|debug switched off again)\.$",
    re.S,
)


@dataclass(frozen=True)
class Summary:
    """A playbook description's three parts: what it is for, what it takes, what it leaves."""

    purpose: str
    takes: str
    leaves: str


def summarise(description: str) -> Summary | None:
    """The three parts of a description that follows the library convention; None when it does not."""
    m = _DESCRIPTION.match(" ".join(description.split()))
    if m is None:
        return None
    return Summary(m.group("purpose"), m.group("takes"), m.group("leaves"))


def switches_debug_on(model: Playbook, platform: Platform) -> bool:
    """Does any command of the playbook switch debug on (so it must say it leaves debug switched off again)?"""
    return any(platform.debug_change(c.command) == "on" for c in iter_commands(model))


__all__ = ["LEAVES", "Summary", "summarise", "switches_debug_on"]
