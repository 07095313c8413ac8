"""Loading what a command needs from files: a playbook (validated), a platform, a run's recorded playbook.

A resumed run re-checks its playbook and recorded variables with the read-only guard before connecting.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

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


def reload_recorded_playbook(info: RunInfo) -> LoadedPlaybook:
    """The playbook the run started with (same file, same hash, same variables), checked by the guard again."""
    from ..playbook import check_playbook, load_playbook

    pb = info.playbook
    loaded = load_playbook(Path(pb.path), pb.vars_overrides)
    if pb.sha256 and loaded.sha256 != pb.sha256:
        raise UsageError(f"the playbook {pb.path} changed since the run started",
                         hint="restore the original playbook, or start a new run")
    check_playbook(loaded, platform_for(info.platform or loaded.model.platform), info.allow_changes)
    return loaded
