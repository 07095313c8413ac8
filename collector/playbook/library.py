"""Finding a playbook by file path or by library name (`cisco_ios/tac-baseline`, `tac/high-cpu`).

The library is the repository's playbooks/ directory plus the user's own (config dir, or COLLECTOR_PLAYBOOKS).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import PlaybookError

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"


def library_dirs() -> list[Path]:
    """Where named playbooks are looked for, the user's own first."""
    from ..paths import config_dir

    dirs = [Path(p).expanduser() for p in os.environ.get("COLLECTOR_PLAYBOOKS", "").split(os.pathsep) if p]
    dirs.append(config_dir() / "playbooks")
    dirs.append(SHIPPED)
    return [d for d in dirs if d.is_dir()]


def find_playbook(name: str) -> Path:
    """A path as given when the file exists; otherwise the library playbook of that name."""
    path = Path(name).expanduser()
    if path.is_file() or path.suffix in (".yaml", ".yml") or os.sep in name and path.exists():
        return path
    if ".." in Path(name).parts or name.startswith("/"):
        raise PlaybookError(f"no playbook file {name!r}")
    for base in library_dirs():
        for candidate in (base / f"{name}.yaml", base / f"{name}.yml"):
            if candidate.is_file():
                return candidate
    raise PlaybookError(f"no playbook file or library playbook named {name!r}",
                        hint="give a path to a YAML file, or a name listed by `collector playbooks`")
