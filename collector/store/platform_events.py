"""Journal events about the platform: what `platform: auto` found, and device settings changed and restored.

Registered with the codec like every other event (store/event_codec.py imports this module). A setting change is
write-ahead (durable): cleanup and resume must know of it whatever happens, so the device is always set back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import Event


@dataclass(kw_only=True, eq=False, repr=False)
class PlatformDetected(Event):
    """`platform: auto` told the platform after login: which one, why, and what it tried."""

    kind = "platform-detected"
    durable = True
    platform: str
    reason: str
    prompt: str = ""
    candidates: list[str] = field(default_factory=list)
    tried: list[dict[str, str]] = field(default_factory=list)


@dataclass(kw_only=True, eq=False, repr=False)
class SettingChanged(Event):
    """Written before a device setting is changed (e.g. FortiOS console paging), with what restores it."""

    kind = "setting-changed"
    durable = True
    name: str
    restore: list[str]


@dataclass(kw_only=True, eq=False, repr=False)
class SettingRestored(Event):
    """A device setting changed for the run was put back, and why."""

    kind = "setting-restored"
    durable = True
    name: str
    reason: str = ""
    raw_start: int | None = None
    raw_end: int | None = None
