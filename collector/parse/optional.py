"""The optional parsers: TTP (with the ttp-templates collection) and Cisco Genie, used only when installed.

Each returns its records or raises NoParser (not installed, or nothing for this platform and command) or
ParseFailed (it tried and gave up); the message is what the run records.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .outcome import NoParser, ParseFailed

#: our (netmiko) platform names -> Genie's `os` names
GENIE_OS: dict[str, str] = {
    "cisco_ios": "ios", "cisco_xe": "iosxe", "cisco_nxos": "nxos", "cisco_xr": "iosxr", "cisco_asa": "asa",
    "juniper_junos": "junos", "linux": "linux", "arista_eos": "eos",
}


def installed(module: str) -> bool:
    """Is an optional parser importable? Searched for once: a failed import scans all of sys.path every time."""
    if module in sys.modules:
        return sys.modules[module] is not None
    return _findable(module)


@functools.cache
def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@functools.cache
def _ttp_platform_dir() -> tuple[Path, frozenset[str]]:
    """The ttp-templates platform directory and the names in it (listed once: most commands have none)."""
    try:  # found, not imported: importing the package costs ~10 ms and most commands have no template
        spec = importlib.util.find_spec("ttp_templates")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise NoParser("ttp-templates is not installed (pip install ttp ttp-templates)")
    folder = Path(next(iter(spec.submodule_search_locations))).resolve() / "platform"
    try:
        return folder, frozenset(os.listdir(folder))
    except OSError:
        return folder, frozenset()


def _ttp_template(platform: str, command: str) -> Path:
    name = re.sub(r"[^a-z0-9]+", "_", f"{platform} {command.replace('|', ' pipe ')}".lower()).strip("_") + ".txt"
    folder, names = _ttp_platform_dir()
    if name not in names or not (folder / name).is_file():
        raise NoParser(f"no ttp-templates template for {platform} command {command!r}")
    return folder / name


def ttp_parse(platform: str, command: str, text: Callable[[], str]) -> tuple[str, list[Any]]:
    """(template file name, records) from the ttp-templates collection's template for the command.

    `text` reads the output: only once a template is known to exist (most commands have none)."""
    path = _ttp_template(platform, command)
    if not installed("ttp"):
        raise NoParser("ttp is not installed (pip install ttp ttp-templates)")
    from ttp import ttp

    try:
        parser = ttp(data=text(), template=path.read_text(encoding="utf-8"), log_level="CRITICAL")
        parser.parse(one=True)
        result = parser.result(structure="flat_list")
    except Exception as exc:  # TTP raises plain exceptions of many kinds; any of them is "did not parse"
        raise ParseFailed(f"ttp failed on {path.name}: {type(exc).__name__}: {str(exc)[:200]}") from None
    records = [r for r in result if r not in ({}, [], None)] if isinstance(result, list) else [result]
    return path.name, records


def genie_parse(platform: str, command: str, text: Callable[[], str]) -> tuple[str, list[Any]]:
    """(parser class name, [the parsed structure]) from Genie's parser for the command."""
    os_name = GENIE_OS.get(platform)
    if os_name is None:
        raise NoParser(f"genie has no os for platform {platform}")
    if not installed("genie"):
        raise NoParser("genie is not installed (pip install pyats genie)")
    try:
        from genie.conf.base import Device
        from genie.libs.parser.utils import get_parser
    except ImportError:
        raise NoParser("genie is not installed completely (pip install pyats genie)") from None
    device = Device("collector", os=os_name)
    device.custom.setdefault("abstraction", {})["order"] = ["os"]
    try:
        found = get_parser(command, device)
    except Exception as exc:  # Genie says "no parser" with plain exceptions
        raise NoParser(f"genie has no parser for {os_name} command {command!r}: {str(exc)[:120]}") from None
    cls = found[0] if isinstance(found, tuple) else found
    name = getattr(cls, "__name__", "genie")
    try:
        parsed = device.parse(command, output=text())
    except Exception as exc:  # Genie's schema errors and empty-output errors are all "did not parse"
        raise ParseFailed(f"genie {name} failed: {type(exc).__name__}: {str(exc)[:200]}") from None
    return name, [dict(parsed)]


__all__ = ["GENIE_OS", "genie_parse", "ttp_parse"]
