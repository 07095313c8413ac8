"""Whether debug is on at the device, and switching it off again: the platform's one definition of debug
(`Platform.debug_change`, `Platform.debug_off_for`), shared with the read-only guard.

Used by the step runner, the capture engine and cleanup; every change is journaled before it can matter.
"""

from __future__ import annotations

from ..platforms import Platform
from ..session.command import NullSink
from ..session.session import Session
from ..store.events import DebugOff, DebugOffSent, DebugOn
from ..store.journal import Journal

OFF_IDLE = 15.0


class DebugTracker:
    """Knows whether debug may be on; `about_to_send` journals debug-on before the command leaves."""

    def __init__(self, platform: Platform, journal: Journal) -> None:
        self.platform = platform
        self.journal = journal
        self.on = journal.state.debug_active
        self.switched_on: list[str] = list(journal.state.debug_commands)  # survives a crash: from the journal

    def about_to_send(self, command: str, *, step: int | None = None, capture: str | None = None) -> None:
        if self.platform.debug_change(command) == "on":
            # write-ahead: a crash right after sending still gets debug switched off (and knows what to negate)
            self.on = True
            self.switched_on.append(command)
            self.journal.write(DebugOn(command=command, step=step, capture=capture))

    def sent(self, command: str, ok: bool, *, reason: str | None = None, step: int | None = None,
             capture: str | None = None) -> None:
        if ok and self.on and self.platform.debug_change(command) == "off":
            self.on = False
            self.switched_on.clear()
            self.journal.write(DebugOff(command=command, reason=reason, step=step, capture=capture))

    def switch_off(self, session: Session, reason: str) -> None:
        """Debug survives a dropped session on most devices: switch it off now."""
        for cmd in self.platform.debug_off_for(self.switched_on):
            result = session.run(cmd, NullSink(), idle_timeout=OFF_IDLE)
            self.journal.write(DebugOffSent(command=cmd, reason=reason, raw_start=result.raw_start,
                                            raw_end=result.raw_end))
        self.on = False
        self.switched_on.clear()
        self.journal.write(DebugOff(reason=reason))
