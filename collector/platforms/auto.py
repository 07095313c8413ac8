"""The `auto` platform: reach a prompt knowing no platform yet; collector/session/detect.py then tells which it is.

Built from the data of every known platform (prompt shapes, pager prompts, login questions), never kept by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

AUTO = "auto"
DESCRIPTION = "Detect the platform after login (prompt shape, then `show version` and friends)"
_GLOBAL_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")


def scoped(regex: str) -> str:
    """A regex that may sit inside an alternation: a leading global flag group becomes a scoped one."""
    m = _GLOBAL_FLAGS.match(regex)
    if m is None:
        return f"(?:{regex})"
    return f"(?{m.group(1)}:{regex[m.end():]})"


def _union(patterns: Sequence[str | None]) -> str | None:
    found = list(dict.fromkeys(p for p in patterns if p))
    return "|".join(scoped(p) for p in found) if found else None


def _unique(items: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def auto_data(platforms: Sequence[Any]) -> dict[str, Any]:
    """The `auto` platform's keys from the known platforms (each a validated Platform)."""
    logins = [p.login for p in platforms]
    return {
        "name": AUTO,
        "description": DESCRIPTION,
        "prompt_pattern": _union([p.prompt_pattern for p in platforms]),
        "paging_patterns": _unique([pat for p in platforms for pat in p.paging_patterns]),
        "error_markers": _unique([m for p in platforms for m in p.error_markers]),
        "error_patterns": _unique([m for p in platforms for m in p.error_patterns]),
        "login": {
            "username": r"(?i)(user ?name|user|login( as)?)\s*:\s*$",
            "password": _union([lg.password for lg in logins]),
            "otp": _union([lg.otp for lg in logins]),
            "login_failed": _union([lg.login_failed for lg in logins]),
            "press_return": _union([lg.press_return for lg in logins]),
            "initial_config_dialog": _union([lg.initial_config_dialog for lg in logins]),
            "rommon": _union([lg.rommon for lg in logins]),
            "replies": _unique([r.model_dump() for lg in logins for r in lg.replies]),
        },
    }


__all__ = ["AUTO", "DESCRIPTION", "auto_data", "scoped"]
