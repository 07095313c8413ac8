"""Where collector keeps its own files, following the platform's conventions (XDG on Linux).

`COLLECTOR_HOME` overrides all of them (one directory for everything, e.g. for a service account).
"""

from __future__ import annotations

import os
from pathlib import Path


def _home() -> Path | None:
    home = os.environ.get("COLLECTOR_HOME")
    return Path(home).expanduser() if home else None


def data_dir() -> Path:
    """Durable data: collector's own known_hosts, the schedule store (~/.local/share/collector)."""
    import platformdirs

    return _home() or Path(platformdirs.user_data_dir("collector"))


def config_dir() -> Path:
    """Configuration: the user's own platform files live in platforms/ here (~/.config/collector)."""
    import platformdirs

    return _home() or Path(platformdirs.user_config_dir("collector"))


def state_dir() -> Path:
    """State that must stay private and local: pseudonym maps (~/.local/state/collector)."""
    import platformdirs

    return _home() or Path(platformdirs.user_state_dir("collector"))


def cache_dir() -> Path:
    """Rebuildable caches, safe to delete: the ntc-templates index as read (~/.cache/collector)."""
    import platformdirs

    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir("collector"))
