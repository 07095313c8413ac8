"""Every fleet journal event as a typed record (the fleet's own list; a device's events stay in its run journal).

Written as JSON lines like the run journal ({"event": name, "ts", "mono", fields...}); unknown names are kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..store.events import Event


@dataclass(kw_only=True, eq=False, repr=False)
class FleetStarted(Event):
    kind = "fleet-started"
    durable = True
    fleet_id: str
    devices: int
    workers: int
    playbook: str


@dataclass(kw_only=True, eq=False, repr=False)
class FleetResumed(FleetStarted):
    kind = "fleet-resumed"
    to_run: list[str] = field(default_factory=list)


@dataclass(kw_only=True, eq=False, repr=False)
class DeviceStarted(Event):
    kind = "device-started"
    device: str
    resumed: bool = False
    worker: str | None = None  # distributed fleets: the `collector worker` that started it


@dataclass(kw_only=True, eq=False, repr=False)
class DeviceFinished(Event):
    kind = "device-finished"
    durable = False  # each device's own journal is the truth; a lost record only re-checks the device
    device: str
    status: str  # a run status (ok, completed-with-errors, failed, failed-before-start, ...) or not-started
    exit_code: int
    error: str | None = None
    run_dir: str | None = None  # relative to the fleet directory
    steps: int = 0
    steps_ok: int = 0
    bytes: int = 0
    duration: float = 0.0


@dataclass(kw_only=True, eq=False, repr=False)
class FleetEnded(Event):
    kind = "fleet-ended"
    durable = True
    status: str  # ok | some-failed | none-ok | interrupted | cleanup-pending | step-errors
    exit_code: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(kw_only=True, eq=False, repr=False)
class FleetUnknown(Event):
    kind = "unknown"
    name: str = ""
    data: dict[str, Any] = field(default_factory=dict)


KINDS: dict[str, type[Event]] = {c.kind: c for c in (FleetStarted, FleetResumed, DeviceStarted, DeviceFinished,
                                                     FleetEnded)}


def from_record(record: dict[str, Any]) -> Event:
    cls = KINDS.get(str(record.get("event", "")))
    if cls is None:
        return FleetUnknown(name=str(record.get("event", "")), data=dict(record), ts=record.get("ts"))
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        event = cls(**{k: v for k, v in record.items() if k in names})
    except TypeError:  # a torn or foreign record
        return FleetUnknown(name=cls.kind, data=dict(record), ts=record.get("ts"))
    return event
