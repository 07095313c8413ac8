"""The playbook of a device job, loaded once per distinct set of variables and checked by the guard per platform.

The job names the playbook by path and SHA-256: a file that changed since the fleet started is refused.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .job import DeviceJob

if TYPE_CHECKING:
    from ..platforms import Platform
    from ..playbook.loader import LoadedPlaybook


class PlaybookCache:
    """Thread-safe: device threads ask for their playbook and platform at the same time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, tuple[tuple[str, str], ...]], LoadedPlaybook] = {}
        self._checked: dict[tuple[object, ...], None] = {}
        self._platforms: dict[str, Platform] = {}

    def platform(self, name: str) -> Platform:
        from ..platforms import load_platform

        with self._lock:
            if name not in self._platforms:
                self._platforms[name] = load_platform(name)
            return self._platforms[name]

    def load(self, job: DeviceJob) -> LoadedPlaybook:
        from ..playbook import load_playbook

        key = (job.playbook.path, tuple(sorted(job.vars.items())))
        with self._lock:
            if key not in self._loaded:
                loaded = load_playbook(Path(job.playbook.path), dict(job.vars))
                if loaded.sha256 != job.playbook.sha256:
                    raise UsageError(f"the playbook {job.playbook.path} changed since the fleet started",
                                     hint="restore the original playbook, or start a new fleet run")
                self._loaded[key] = loaded
            return self._loaded[key]

    @staticmethod
    def deferred(job: DeviceJob) -> bool:
        """`platform: auto`: the guard checks the playbook once the device's platform is detected."""
        from ..platforms import AUTO

        return job.platform == AUTO

    def checked(self, job: DeviceJob) -> tuple[LoadedPlaybook, Platform]:
        """The job's playbook and platform, after the read-only guard passed them (GuardRefused otherwise)."""
        from ..playbook import check_playbook

        loaded = self.load(job)
        platform = self.platform(job.platform)
        key = (id(loaded), job.platform, job.options.allow_changes)
        if key not in self._checked:
            check_playbook(loaded, platform, job.options.allow_changes)
            with self._lock:
                self._checked[key] = None
        return loaded, platform
