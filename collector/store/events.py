"""Every journal event as a typed record, one class per event name: the run, the link, steps, debug and cleanup
here; captures, dial-in recovery and the platform in capture_events.py, dialin_events.py and platform_events.py.

The journal writes them as JSON lines ({"event": name, "ts", "mono", fields...}); readers parse them back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(kw_only=True, eq=False, repr=False)
class Event:
    """Base of all journal events. `kind` is the event name on disk; `durable` events are fsync'd (those the
    cleanup guarantee and resume need after a power failure; an fsync also makes every earlier record durable)."""

    kind: ClassVar[str] = ""
    durable: ClassVar[bool] = False
    ts: str | None = None  # filled in when read back from a journal
    mono: float | None = None

    def fields(self) -> dict[str, Any]:
        """The event's own fields (no timestamps), as written to the journal."""
        return {name: getattr(self, name) for name in _own_fields(type(self))}

    # Every event class is a keyword-only dataclass with eq=False, repr=False: these two serve them all, as the
    # generated ones would (the same class and equal fields; every field shown), and the schema of ~50 events
    # loads with one generated function per class instead of three.
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = _all_fields(type(self))
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _all_fields(type(self)))
        return f"{type(self).__qualname__}({shown})"


_OWN_FIELDS: dict[type, tuple[str, ...]] = {}
_ALL_FIELDS: dict[type, tuple[str, ...]] = {}


def _all_fields(cls: type) -> tuple[str, ...]:
    names = _ALL_FIELDS.get(cls)
    if names is None:
        names = _ALL_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _own_fields(cls: type) -> tuple[str, ...]:
    """An event class's field names without the timestamps, found once per class (two journal records a step)."""
    names = _OWN_FIELDS.get(cls)
    if names is None:
        names = _OWN_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name not in ("ts", "mono"))
    return names


# -- run lifecycle -----------------------------------------------------------------------------------------
@dataclass(kw_only=True, eq=False, repr=False)
class RunStarted(Event):
    """Not fsync'd on its own: the next durable record (debug on, a drop, cleanup) makes everything before it so."""

    kind = "run-started"
    target: str
    steps: int
    cleanup_steps: int


@dataclass(kw_only=True, eq=False, repr=False)
class RunResumed(RunStarted):
    """A resume of the run started (same fields as run-started)."""

    kind = "run-resumed"


@dataclass(kw_only=True, eq=False, repr=False)
class RunEnded(Event):
    """Not fsync'd: lost to a power failure, the run reads as interrupted and `resume` finds nothing left to do."""

    kind = "run-ended"
    status: str
    error: str | None = None


# -- the link ----------------------------------------------------------------------------------------------
@dataclass(kw_only=True, eq=False, repr=False)
class Connected(Event):
    """The session is up: link facts, the prompt found and the mode it means."""

    kind = "connected"
    link: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None
    mode: str | None = None  # user | privileged | config | other


@dataclass(kw_only=True, eq=False, repr=False)
class Reconnected(Connected):
    """The session is up again after a drop (durable: resume needs to see it)."""

    kind = "reconnected"
    durable = True


@dataclass(kw_only=True, eq=False, repr=False)
class LinkLost(Event):
    """The connection dropped: why, where in the raw stream, and whether debug was on."""

    kind = "connection-lost"
    durable = True
    cause: str
    raw_offset: int | None = None
    debug_on: bool = False


@dataclass(kw_only=True, eq=False, repr=False)
class ReconnectAttempt(Event):
    """One try to reconnect after a drop, and its error when it failed."""

    kind = "reconnect-attempt"
    attempt: int
    error: str | None = None


# -- steps -------------------------------------------------------------------------------------------------
@dataclass(kw_only=True, eq=False, repr=False)
class StepEvent(Event):
    """Fields every step event carries; `capture` names the capture a capture/trigger event belongs to."""

    step: int
    kind_of_step: str = "show"  # written as "kind" (show | cleanup | capture | trigger)
    capture: str | None = None

    def fields(self) -> dict[str, Any]:
        out = super().fields()
        out["kind"] = out.pop("kind_of_step")
        if out.get("capture") is None:
            out.pop("capture", None)
        return out


@dataclass(kw_only=True, eq=False, repr=False)
class StepStarted(StepEvent):
    """An attempt of a step began: its command and where in the raw stream it starts."""

    kind = "step-started"
    name: str
    command: str
    attempt: int
    raw_offset: int
    mode: str = "interactive"
    resume: str | None = None  # "offset" when continuing from a kept partial
    kept: int | None = None
    overlap: int | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class StepCompleted(StepEvent):
    """An attempt of a step ended: status, output file, raw range, size, SHA-256 and timing."""

    kind = "step-completed"
    status: str  # ok | error | timeout | failed
    attempt: int
    name: str
    command: str
    file: str | None
    raw_start: int | None
    raw_end: int | None
    bytes: int
    sha256: str | None = None
    error_marker: str | None = None
    timed_out: bool = False
    truncated: bool = False
    confirm_refused: bool = False
    duration: float = 0.0
    mode: str = "interactive"
    exit_status: int | None = None
    resumed_from: int | None = None  # offset resume: bytes kept from earlier attempts
    resent: int | None = None  # offset resume: bytes fetched again for the overlap check
    lines: int | None = None  # captures
    capture_status: str | None = None
    reason: str | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class StepInterrupted(StepEvent):
    """An attempt of a step was cut (drop, stop or crash): what it kept, and why."""

    kind = "step-interrupted"
    attempt: int | None = None
    raw_end: int | None = None
    bytes: int = 0
    partial_file: str | None = None
    cause: str | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class StepSkipped(StepEvent):
    """A step was not run, and why (e.g. its precheck said no)."""

    kind = "step-skipped"
    cause: str


@dataclass(kw_only=True, eq=False, repr=False)
class OffsetResumeFailed(StepEvent):
    """Continuing a step from its kept bytes failed the overlap check: it runs again whole."""

    kind = "offset-resume-failed"
    attempt: int
    kept: int
    cause: str


@dataclass(kw_only=True, eq=False, repr=False)
class SessionStateRestored(StepEvent):
    """A per-session setting (e.g. terminal monitor) was sent again after a reconnect."""

    kind = "session-state-restored"
    command: str
    raw_start: int
    raw_end: int


# -- debug and cleanup -------------------------------------------------------------------------------------
@dataclass(kw_only=True, eq=False, repr=False)
class DebugOn(Event):
    """A command that turns debug on is about to be sent (durable: the cleanup guarantee rests on it)."""

    kind = "debug-on"
    durable = True
    command: str
    step: int | None = None
    capture: str | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class DebugOff(Event):
    """Debug is known to be off again, by which command and why."""

    kind = "debug-off"
    command: str | None = None
    reason: str | None = None
    step: int | None = None
    capture: str | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class DebugOffSent(Event):
    """`undebug all` (or the platform's equivalent) was sent; its raw range."""

    kind = "debug-off-sent"
    command: str
    reason: str
    raw_start: int
    raw_end: int


@dataclass(kw_only=True, eq=False, repr=False)
class CleanupStarted(Event):
    """The cleanup phase began, and whether debug was on at that moment."""

    kind = "cleanup-started"
    debug_on: bool


@dataclass(kw_only=True, eq=False, repr=False)
class CleanupCompleted(Event):
    """The cleanup phase ended with nothing owed at the device."""

    kind = "cleanup-completed"
    durable = True


@dataclass(kw_only=True, eq=False, repr=False)
class CleanupPendingEvent(Event):
    """The cleanup could not be sent: debug may still be on at the device."""

    kind = "cleanup-pending"
    durable = True
    cause: str


@dataclass(kw_only=True, eq=False, repr=False)
class CleanupFailed(Event):
    """Cleanup steps could not all run, but nothing is owed at the device (debug is off)."""

    kind = "cleanup-failed"
    durable = True
    cause: str
