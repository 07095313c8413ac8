"""A JSON cache of data derived from a file (the ntc-templates index as read, a platform file as parsed), kept in
the cache dir so a process does not re-derive what an earlier one already did.

An entry is found by the digest of its key and used only when the key stored in it is equal; anything unreadable,
stale or not exactly representable in JSON is simply derived again. Deleting a cache folder is always safe.
An entry is as trusted as the folder it is in: data derived from collector's own files (the bundled platforms and
their read-only rules) is kept beside them, like Python's bytecode, never in the user's cache dir.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

MAX_ENTRY_BYTES = 64 << 20  # far above any real entry (a platform is at most 1 MiB of YAML): larger ones are ignored


def _entry(kind: str, key: dict[str, Any], folder: Path | None) -> Path | None:
    try:
        if folder is None:
            from .paths import cache_dir

            folder = cache_dir()
        digest = hashlib.sha256(json.dumps([kind, key], sort_keys=True).encode()).hexdigest()[:24]
        return folder / f"{kind}-{digest}.json"
    except Exception:  # no home directory to cache in: derive every time
        return None


def load(kind: str, key: dict[str, Any], folder: Path | None = None) -> Any | None:
    """The value stored for `key` (in `folder`, default the user's cache dir), or None when there is none (or it
    cannot be trusted to be the one)."""
    entry = _entry(kind, key, folder)
    if entry is None:
        return None
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, RecursionError):
        if entry.stat().st_size > MAX_ENTRY_BYTES:
            return None
        doc = json.loads(entry.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("key") == key:
            return doc["value"]
    return None


def store(kind: str, key: dict[str, Any], value: Any, folder: Path | None = None) -> bool:
    """Keep `value` for `key` when JSON gives it back exactly (no tuples, no non-string keys); True when kept (a
    folder that cannot be written, e.g. a system-wide install, keeps nothing)."""
    entry = _entry(kind, key, folder)
    if entry is None:
        return False
    try:
        text = json.dumps({"key": key, "value": value}, ensure_ascii=False)
        if json.loads(text)["value"] != value:
            return False
    except (TypeError, ValueError):
        return False
    tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, entry)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True


__all__ = ["load", "store"]
