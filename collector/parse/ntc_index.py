"""Finds the ntc-templates template for a platform and command in the package's own `index` file.

The index maps (platform regex, command regex) to templates; `abc[[xyz]]` in a command means "abc, abcx, ... abcxyz"
(the CLI's abbreviations). A command must match a row's regex completely: a longer command (`show ip route 10.0.0.0`)
prints something else, and a wrong parse is worse than none.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .. import derived_cache
from .commands import ntc_platforms
from .outcome import NoParser


@dataclass(frozen=True)
class TemplateMatch:
    """The ntc-templates row that matched a command: its templates and platform."""

    templates: tuple[str, ...]  # file names in the template dir (a row may name several, merged by key)
    platform: str  # the ntc platform name that matched
    canonical: str  # the command the first template is named after (`show ip interface brief`)
    template_dir: Path


def template_dir() -> Path:
    """NTC_TEMPLATES_DIR when set (a directory with its own index), else the installed ntc-templates package's."""
    env = os.environ.get("NTC_TEMPLATES_DIR")
    return Path(env) if env else _package_dir()


@functools.cache
def _package_dir() -> Path:
    try:
        import ntc_templates
    except ImportError:
        raise NoParser("ntc-templates is not installed (pip install ntc-templates)") from None
    return Path(ntc_templates.__file__).resolve().parent / "templates"


CACHE_FORMAT = 1


@functools.cache
def _rows(directory: Path) -> tuple[tuple[str, str, str], ...]:
    """(templates, platform regex, command regex) per index row, in file order (the index lists longest first).

    Reading the index with textfsm's clitable expands and compiles ~1,000 rows (0.1 s, paid by every run that
    parses); the rows as text are cached per index file (path, size, mtime) and compiled per platform on use."""
    index = directory / "index"
    if not index.is_file():
        raise NoParser(f"no ntc-templates index in {directory}")
    st = index.stat()
    key = {"format": CACHE_FORMAT, "index": str(index.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    with contextlib.suppress(ValueError, TypeError):
        cached = derived_cache.load("ntc-index", key)
        if cached is not None:
            return tuple((str(t), str(p), str(c)) for t, p, c in cached)
    rows = _read_index(directory)
    derived_cache.store("ntc-index", key, [list(row) for row in rows])
    return rows


def _read_index(directory: Path) -> tuple[tuple[str, str, str], ...]:
    try:
        from textfsm import clitable
    except ImportError:
        raise NoParser("textfsm is not installed (pip install textfsm)") from None
    table = clitable.CliTable("index", str(directory))  # parses the index, `[[...]]` expanded
    out = []
    for row in table.index.compiled:
        platform, command = row["Platform"], row["Command"]
        if platform is None or command is None:
            continue
        out.append((str(table.index.index[row.row]["Template"]), platform.pattern, command.pattern))
    return tuple(out)


def _canonical(template: str, platform: str) -> str:
    stem = template.removesuffix(".textfsm")
    return stem.removeprefix(platform + "_").replace("_", " ")


@functools.cache
def _platform_rows(directory: Path, ntc: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(templates, command regex) of the index rows for one ntc-templates platform, in index order."""
    return tuple((t, re.compile(c)) for t, p, c in _rows(directory) if re.fullmatch(p, ntc))


@functools.lru_cache(maxsize=4096)
def _lookup(directory: Path, platform: str, command: str) -> TemplateMatch | None:
    for ntc in ntc_platforms(platform):
        for templates, cmd_re in _platform_rows(directory, ntc):
            # `ip a[[ddress]] [[show]]`: an optional last word still needs its space
            if cmd_re.fullmatch(command) or cmd_re.fullmatch(command + " "):
                names = tuple(t.strip() for t in templates.split(":") if t.strip())
                return TemplateMatch(names, ntc, _canonical(names[0], ntc), directory)
    return None


def find_template(platform: str, command: str) -> TemplateMatch:
    """The template for `command` (already resolved) on our platform `platform`, trying what it extends next."""
    found = _lookup(template_dir(), platform, command)
    if found is None:
        tried = ", ".join(ntc_platforms(platform))
        raise NoParser(f"no ntc-templates template for {tried} command {command!r}")
    return found


__all__ = ["TemplateMatch", "find_template", "template_dir"]
