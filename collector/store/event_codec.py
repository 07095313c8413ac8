"""Journal records to typed events and back: the event name picks the class; unknown names are kept.

Forward compatible: a record written by a newer collector (unknown name or fields) never breaks a fold.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from . import (
    capture_events,  # noqa: F401 - registers the capture and trigger events
    dialin_events,  # noqa: F401 - registers the dial-in recovery events
    platform_events,  # noqa: F401 - registers platform detection and device-setting events
)
from .events import Event, StepEvent


@dataclass(kw_only=True, eq=False, repr=False)
class UnknownEvent(Event):
    """A record this version does not know (written by a newer collector): kept, never folded."""

    kind = "unknown"
    name: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _all_kinds() -> dict[str, type[Event]]:
    out: dict[str, type[Event]] = {}
    stack: list[type[Event]] = [Event]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.kind and cls is not UnknownEvent:
            out[cls.kind] = cls
    return out


KINDS: dict[str, type[Event]] = _all_kinds()


def to_record(event: Event) -> dict[str, Any]:
    """The JSON object for an event (without timestamps)."""
    return {"event": event.kind, **event.fields()}


#: fields collectors before typed events did not write, with the value they meant (trigger steps had one attempt)
LEGACY_DEFAULTS: dict[str, dict[str, Any]] = {"trigger-step-completed": {"attempt": 1}}


def from_record(record: dict[str, Any]) -> Event:
    """A typed event from a journal record; unknown names and fields are tolerated (forward compatible)."""
    name = str(record.get("event", ""))
    cls = KINDS.get(name)
    if cls is None:
        return UnknownEvent(name=name, data=dict(record), ts=record.get("ts"), mono=record.get("mono"))
    names = {f.name for f in dataclasses.fields(cls)}
    values = {**LEGACY_DEFAULTS.get(name, {}), **{k: v for k, v in record.items() if k in names}}
    if issubclass(cls, StepEvent):
        values["kind_of_step"] = record.get("kind", "show")
    try:
        return cls(**values)
    except TypeError:  # a required field missing (a torn or foreign record): keep it, do not fold it
        return UnknownEvent(name=name, data=dict(record), ts=record.get("ts"), mono=record.get("mono"))
