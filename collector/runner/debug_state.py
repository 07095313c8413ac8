"""Whether debug is on at the device, from one definition per platform, and how to switch it off again.

Used by the step runner, the capture engine and cleanup; every change is journaled before it can matter.
"""

from __future__ import annotations

import re

from ..platforms import Platform
from ..session.command import NullSink
from ..session.session import Session
from ..store.events import DebugOff, DebugOffSent, DebugOn
from ..store.journal import Journal

_ON = re.compile(r"^\s*deb(u|ug)?\s+\S", re.IGNORECASE)
_OFF = re.compile(r"^\s*(u|un|und|undeb|undebu|undebug)\s+\S|^\s*no\s+deb(u|ug)?(\s|$)", re.IGNORECASE)
OFF_IDLE = 15.0


def debug_change(platform: Platform, command: str) -> str | None:
    """"on", "off" or None: what sending `command` does to debugging on this platform."""
    if _OFF.match(command):
        return "off"
    if _ON.match(command):
        return "on"
    return None


def debug_off_commands(platform: Platform, switched_on: list[str]) -> list[str]:
    """The platform's all-off commands; where it has none (FRR), the negation of each command switched on."""
    if any(debug_change(platform, c) == "off" for c in platform.debug_off_commands):
        return list(platform.debug_off_commands)
    return [f"no {c.strip()}" for c in switched_on] + list(platform.debug_off_commands)


class DebugTracker:
    """Knows whether debug may be on; `about_to_send` journals debug-on before the command leaves."""

    def __init__(self, platform: Platform, journal: Journal) -> None:
        self.platform = platform
        self.journal = journal
        self.on = journal.state.debug_active
        self.switched_on: list[str] = list(journal.state.debug_commands)  # survives a crash: from the journal

    def about_to_send(self, command: str, *, step: int | None = None, capture: str | None = None) -> None:
        if debug_change(self.platform, command) == "on":
            # write-ahead: a crash right after sending still gets debug switched off (and knows what to negate)
            self.on = True
            self.switched_on.append(command)
            self.journal.write(DebugOn(command=command, step=step, capture=capture))

    def sent(self, command: str, ok: bool, *, reason: str | None = None, step: int | None = None,
             capture: str | None = None) -> None:
        if ok and self.on and debug_change(self.platform, command) == "off":
            self.on = False
            self.switched_on.clear()
            self.journal.write(DebugOff(command=command, reason=reason, step=step, capture=capture))

    def switch_off(self, session: Session, reason: str) -> None:
        """Debug survives a dropped session on most devices: switch it off now."""
        for cmd in debug_off_commands(self.platform, self.switched_on):
            result = session.run(cmd, NullSink(), idle_timeout=OFF_IDLE)
            self.journal.write(DebugOffSent(command=cmd, reason=reason, raw_start=result.raw_start,
                                            raw_end=result.raw_end))
        self.on = False
        self.switched_on.clear()
        self.journal.write(DebugOff(reason=reason))
