"""Steps for a platform known only after login (`--platform auto`): a library name (`tac/high-cpu`) resolved for
the detected platform, or a given playbook checked again by the guard for it. Used as the Runner's `retarget`.

Nothing runs before the guard has passed every command for the platform the device turned out to be.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import PlaybookError
from ..platforms import AUTO, Platform, platform_lineage
from ..playbook import check_playbook, load_playbook
from ..playbook.library import find_playbook
from ..playbook.loader import LoadedPlaybook
from .plan import PlannedStep, plan_steps, playbook_info
from .run_info import PlaybookRecord

Planned = tuple[list[PlannedStep], PlaybookRecord]


class LibraryRetarget:
    """`tac/high-cpu` for whatever platform the device is."""

    def __init__(self, name: str, overrides: Mapping[str, str], allow_changes: bool) -> None:
        self.name = name
        self.overrides = dict(overrides)
        self.allow_changes = allow_changes

    def __call__(self, platform: Platform) -> Planned:
        loaded = load_playbook(find_playbook(self.name, platform.name), self.overrides)
        check_playbook(loaded, platform, self.allow_changes)
        return plan_steps(loaded.model), playbook_info(loaded, self.overrides)


class PlaybookRetarget:
    """A given playbook, checked by the guard for the detected platform (which must be the playbook's, or one
    that extends it, unless the playbook says `platform: auto`)."""

    def __init__(self, loaded: LoadedPlaybook, overrides: Mapping[str, str], allow_changes: bool) -> None:
        self.loaded = loaded
        self.overrides = dict(overrides)
        self.allow_changes = allow_changes

    def __call__(self, platform: Platform) -> Planned:
        wanted = self.loaded.model.platform
        if wanted != AUTO and wanted not in platform_lineage(platform.name):
            raise PlaybookError(f"the device is {platform.name}, but the playbook is for {wanted}",
                                hint=f"`collector playbooks --platform {platform.name}` lists playbooks for it")
        check_playbook(self.loaded, platform, self.allow_changes)
        return plan_steps(self.loaded.model), playbook_info(self.loaded, self.overrides)


def placeholder(name: str) -> PlaybookRecord:
    """run.json's playbook until the platform is known (the run directory is named after it)."""
    return PlaybookRecord(name=name.replace("/", "-"), platform=AUTO)


__all__ = ["LibraryRetarget", "PlaybookRetarget", "placeholder"]
