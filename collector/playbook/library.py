"""Finding a playbook by file path or by library name (`cisco_ios/tac-baseline`, or `tac/high-cpu` for a platform).

The library is the repository's playbooks/ directory plus your own (COLLECTOR_PLAYBOOKS, the config dir's
playbooks/), laid out `<platform>/<name>.yaml`; `tac/high-cpu` is found in the target's platform folder, or in the
folder of a platform it `extends` (cisco_xe runs cisco_ios's).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import PlaybookError
from ..platforms import AUTO, device_platforms, platform_lineage

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


@dataclass(frozen=True)
class LibraryEntry:
    """One library playbook: the name you run, the platform folder it is in, its file, shipped or yours."""

    name: str
    platform: str
    path: Path
    source: str  # shipped | yours


def library_dirs() -> list[Path]:
    """Where named playbooks are looked for, your own first."""
    from ..paths import config_dir

    dirs = [Path(p).expanduser() for p in os.environ.get("COLLECTOR_PLAYBOOKS", "").split(os.pathsep) if p]
    dirs.append(config_dir() / "playbooks")
    dirs.append(SHIPPED)
    return [d for d in dirs if d.is_dir()]


def library_entries(platform: str | None = None) -> list[LibraryEntry]:
    """Every library playbook (the first directory naming one wins); with a platform, those that run on it
    (its own folder, then the folders of the platforms it extends)."""
    known = set(device_platforms())
    wanted = platform_lineage(platform) if platform and platform != AUTO else None
    seen: dict[tuple[str, str], LibraryEntry] = {}
    for base in library_dirs():
        source = "shipped" if base.resolve() == SHIPPED else "yours"
        for folder in sorted(p for p in base.iterdir() if p.is_dir() and p.name in known):
            for path in sorted(folder.rglob("*.y*ml")):
                if path.suffix not in (".yaml", ".yml"):
                    continue
                name = path.relative_to(folder).with_suffix("").as_posix()
                seen.setdefault((folder.name, name), LibraryEntry(name, folder.name, path, source))
    entries = list(seen.values())
    if wanted is None:
        return sorted(entries, key=lambda e: (e.platform, e.name))
    rank = {p: i for i, p in enumerate(wanted)}
    best: dict[str, LibraryEntry] = {}
    for e in sorted((e for e in entries if e.platform in rank), key=lambda e: rank[e.platform]):
        best.setdefault(e.name, e)  # the platform's own playbook wins over its parent's
    return sorted(best.values(), key=lambda e: e.name)


def platforms_with(name: str) -> list[str]:
    """The platforms whose library folder has a playbook of this name (`tac/high-cpu`)."""
    return sorted({e.platform for e in library_entries() if e.name == name})


def is_family(name: str) -> bool:
    """True when the name is a library name resolved per platform (not a path, not `<platform>/<name>`)."""
    return not Path(name).expanduser().is_file() and bool(platforms_with(name))


def _check_name(name: str) -> None:
    if not _NAME.match(name) or ".." in name.split("/"):
        raise PlaybookError(f"no playbook file {name!r}",
                            hint="give a path to a YAML file, or a name listed by `collector playbooks`")


def find_playbook(name: str, platform: str | None = None) -> Path:
    """A path as given when the file exists; else the library playbook `name` (`cisco_ios/tac-baseline`), or
    `name` for the platform (`tac/high-cpu` with cisco_xe finds cisco_xe's, else cisco_ios's)."""
    path = Path(name).expanduser()
    if path.is_file() or path.suffix in (".yaml", ".yml") or os.sep in name and path.exists():
        return path
    _check_name(name)
    for base in library_dirs():
        for candidate in (base / f"{name}.yaml", base / f"{name}.yml"):
            if candidate.is_file():
                return candidate
    if platform and platform != AUTO:
        for entry in library_entries(platform):
            if entry.name == name:
                return entry.path
    have = platforms_with(name)
    if have and (not platform or platform == AUTO):
        raise PlaybookError(f"{name!r} is a library playbook for each platform ({', '.join(have)}): which one?",
                            hint="give --platform NAME (or --platform auto to detect it after login)")
    if have:
        raise PlaybookError(f"the library has no {name!r} for platform {platform!r} (it has one for "
                            f"{', '.join(have)})", hint="`collector playbooks --platform NAME` lists what there is")
    raise PlaybookError(f"no playbook file or library playbook named {name!r}",
                        hint="give a path to a YAML file, or a name listed by `collector playbooks`")


__all__ = ["LibraryEntry", "SHIPPED", "find_playbook", "is_family", "library_dirs", "library_entries",
           "platforms_with"]
