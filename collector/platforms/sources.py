"""Where platform files come from: the bundled ones, and your own (COLLECTOR_PLATFORMS, config dir platforms/).

Returns raw mappings with `extends:` resolved; the Platform model (platforms/__init__.py) validates them.
"""

from __future__ import annotations

import copy
import difflib
import functools
import hashlib
import os
import re
from pathlib import Path
from typing import Any

from .. import derived_cache
from ..errors import PlaybookError

PLATFORM_DIR = Path(__file__).resolve().parent
BUNDLED_CACHE = PLATFORM_DIR / "__cache__"  # the bundled platforms as parsed (derived_cache), like __pycache__
MAX_PLATFORM_BYTES = 1 << 20
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class PlatformError(PlaybookError):
    """An unknown platform name or a platform file that does not validate."""


def user_platform_dirs() -> list[Path]:
    """Your own platform directories: COLLECTOR_PLATFORMS (os.pathsep-separated), then <config dir>/platforms."""
    from ..paths import config_dir

    dirs = [Path(p).expanduser() for p in os.environ.get("COLLECTOR_PLATFORMS", "").split(os.pathsep) if p]
    dirs.append(config_dir() / "platforms")
    return [d for d in dirs if d.is_dir()]


def bundled_names() -> list[str]:
    return sorted(p.stem for p in PLATFORM_DIR.glob("*.yaml"))


def platform_files() -> dict[str, Path]:
    """Every platform name and its file: bundled first, then yours (the first directory naming one wins).

    A file of yours may not take a bundled name (that would silently change its read-only rules): name it
    differently and start it with `extends: <bundled name>`.
    """
    files = {p.stem: p for p in sorted(PLATFORM_DIR.glob("*.yaml"))}
    bundled = set(files)
    for directory in user_platform_dirs():
        for path in sorted(directory.glob("*.yaml")):
            name = path.stem
            if name in bundled:
                raise PlatformError(
                    f"{path}: a platform of your own may not reuse the bundled name {name!r}",
                    hint=f"rename the file (e.g. my_{name}.yaml, with `name: my_{name}`) and start it with "
                    f"`extends: {name}`",
                )
            if not NAME_RE.match(name):
                raise PlatformError(f"{path}: a platform file name must be lower-case letters, digits and _",
                                    hint="e.g. acme_os.yaml")
            files.setdefault(name, path)
    return files


@functools.cache
def core12_loader() -> type:
    """libyaml's safe loader with YAML 1.2 core scalars (as ruamel reads playbooks): `on`, `no`, `1:30` and `0755`
    stay strings, not YAML 1.1 booleans, sexagesimals or octals."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Core12Loader(base):  # type: ignore[valid-type,misc]
        yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}

    for tag, pattern, first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("int", r"^(?:[-+]?[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|"
                  r"\.(?:nan|NaN|NAN))$", "-+.0123456789"),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ):
        Core12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(pattern), list(first))
    Core12Loader.add_constructor("tag:yaml.org,2002:int", _core_int)
    return Core12Loader


def _core_int(loader: Any, node: Any) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    return int(text, 0) if text[:2] in ("0x", "0o") else int(text, 10)


def read_yaml(path: Path) -> dict[str, Any]:
    """A platform file (the user's own or bundled: trusted, no line numbers needed) through libyaml (7x faster
    than a pure-Python parse: every run reads its platform). Read once per process while the file is unchanged;
    the caller gets its own copy to change."""
    try:
        st = path.stat()
    except OSError as exc:
        raise PlatformError(f"{path}: cannot read platform file: {exc.strerror}") from None
    return copy.deepcopy(_read_once(path, st.st_mtime_ns, st.st_size))


@functools.lru_cache(maxsize=256)
def _read_once(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """Parsed once per process, and once per file content across processes: the data is kept under the SHA-256 of
    the file's bytes (a 650-line platform costs ~20 ms to check and parse, 0.3 ms to load). A bundled platform's
    is kept beside it (as trusted as the file itself), yours in your cache dir."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlatformError(f"{path}: cannot read platform file: {exc.strerror}") from None
    key = {"format": 1, "sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw), "parser": _parser_stamp()}
    folder = BUNDLED_CACHE if path.parent.resolve() == PLATFORM_DIR else None
    cached = derived_cache.load("platform", key, folder)
    if isinstance(cached, dict):
        return cached
    data = _parse(path, raw)
    derived_cache.store("platform", key, data, folder)
    return data


@functools.cache
def _parser_stamp() -> str:
    """Which parser made an entry: collector's version and this module's own file (edited or reinstalled, every
    entry is parsed again, as Python does with bytecode)."""
    from .. import __version__

    try:
        return f"{__version__}:{os.stat(__file__).st_mtime_ns}"
    except OSError:
        return __version__


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    import yaml

    from ..yaml_bounds import YamlLimit, check_bounds

    try:
        text = raw.decode("utf-8")
        if len(text) > MAX_PLATFORM_BYTES:
            raise PlatformError(f"{path}: {len(text):,} characters; a platform file is at most 1 MiB")
        check_bounds(None, text)  # nesting, aliases, values: bounded before anything is built
        data = yaml.load(text, Loader=core12_loader())  # noqa: S506 (a safe loader)
    except YamlLimit as exc:
        raise PlatformError(f"{path}:{exc.line}: {exc}", hint=exc.hint) from None
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise PlatformError(f"{path}: cannot read platform file: {str(exc)[:300]}") from None
    except Exception as exc:  # ruamel measured a file libyaml could not parse: its error is the message
        from ruamel.yaml.error import YAMLError as RuamelError

        if not isinstance(exc, RuamelError):
            raise
        raise PlatformError(f"{path}: cannot read platform file: {str(exc)[:300]}") from None
    if not isinstance(data, dict):
        raise PlatformError(f"{path}: a platform file must be a YAML mapping")
    return data


def unknown(name: str, known: list[str]) -> PlatformError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return PlatformError(
        f"unknown platform {name!r}; known platforms: {', '.join(known)}",
        hint=f"{hint}platform names follow netmiko's (cisco_ios, linux, ...)",
    )


def resolve(name: str, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """The platform's keys with `extends` applied (a child's keys replace its parent's whole), and its lineage
    (the name, then every platform it extends)."""
    files = platform_files()
    path = files.get(name)
    if not NAME_RE.match(name) or path is None:
        raise unknown(name, sorted(files))
    if name in seen:
        raise PlatformError(f"platform {name!r}: `extends` loops through {' -> '.join(seen + (name,))}")
    data = read_yaml(path)
    parent = data.pop("extends", None)
    lineage = [name]
    if parent is not None:
        merged, parents = resolve(str(parent), seen + (name,))
        merged.update(data)
        data, lineage = merged, [name, *parents]
    return data, lineage


def resolve_file(path: Path) -> dict[str, Any]:
    """A platform file given by path: its keys with `extends` (a known platform's name) applied."""
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is not None:
        merged, _ = resolve(str(parent))
        merged.update(data)
        data = merged
    return data


__all__ = ["NAME_RE", "PLATFORM_DIR", "PlatformError", "bundled_names", "platform_files", "read_yaml", "resolve",
           "resolve_file", "unknown", "user_platform_dirs", "core12_loader"]
