"""Loading what a command needs from files: a playbook (validated), a platform, a run's recorded playbook.

A resumed run re-checks its playbook and recorded variables with the read-only guard before connecting.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..platforms import Platform
    from ..playbook.loader import LoadedPlaybook
    from ..runner.run_info import RunInfo


def load_checked_playbook(path: Path, overrides: Mapping[str, str]) -> LoadedPlaybook:
    from ..playbook import load_playbook

    return load_playbook(path, overrides)


def platform_for(name: str) -> Platform:
    from ..platforms import load_platform

    return load_platform(name)


def reload_recorded_playbook(info: RunInfo, allow_changes: bool) -> tuple[LoadedPlaybook, Platform]:
    """The playbook the run started with (same file, same hash, same variables), checked by the guard again, so an
    edited run.json or playbook cannot smuggle a command past it. Changes only with --allow-changes given again."""
    from ..playbook import recheck_recorded

    return recheck_recorded(info.playbook.model_dump(), info.platform, allow_changes=allow_changes)
