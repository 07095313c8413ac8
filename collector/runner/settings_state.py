"""Device settings the session changed to work (paging), and putting them back: journaled before every change.

Like debug: the change is recorded before it is made, so cleanup, a reconnect or a resume always restores it.
"""

from __future__ import annotations

from ..errors import CommandTimeout
from ..platforms import DeviceSetting
from ..session.command import NullSink
from ..session.session import Session
from ..store.journal import Journal
from ..store.platform_events import SettingChanged, SettingRestored

RESTORE_IDLE = 15.0


class SettingsTracker:
    """Knows which device settings are changed; `about_to_change` is the session's hook (write-ahead)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.changed: dict[str, list[str]] = dict(journal.state.settings_changed)  # survives a crash

    @property
    def on(self) -> bool:
        """True while some device setting is still changed."""
        return bool(self.changed)

    def about_to_change(self, setting: DeviceSetting) -> None:
        if setting.name not in self.changed:
            self.journal.write(SettingChanged(name=setting.name, restore=list(setting.restore)))
            self.changed[setting.name] = list(setting.restore)

    def restore(self, session: Session, reason: str) -> None:
        """Send every restore command; each setting is marked restored once all its commands went through."""
        for name, commands in list(self.changed.items()):
            start = session.offset
            for command in commands:
                if session.run(command, NullSink(), idle_timeout=RESTORE_IDLE).timed_out:
                    session.resync()
                    raise CommandTimeout(f"restoring the device setting {name!r}: `{command}` got no prompt back")
            self.journal.write(SettingRestored(name=name, reason=reason, raw_start=start, raw_end=session.offset))
            del self.changed[name]


__all__ = ["SettingsTracker"]
