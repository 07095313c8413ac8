"""Pydantic validation errors mapped to playbook issues: file:line of the key, and "did you mean" for typos.

Tagged unions (show / capture steps) are looked through so an unknown key names the keys allowed where it stands.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .issues import Loc, PlaybookIssue, where
from .schema import STEP_TAGS, Playbook
from .tree import existing_prefix


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(m for m in _models_in(arg) if m not in found)
    return found


def _model_at(raw_loc: Loc) -> type[BaseModel] | None:
    """The model whose keys live at raw_loc (a pydantic error location, tags included)."""
    current: type[BaseModel] | None = Playbook
    for part in raw_loc:
        if isinstance(part, str) and part in STEP_TAGS:
            current = STEP_TAGS[part]
            continue
        if isinstance(part, int) or current is None:
            continue
        fld = _field(current, part)
        if fld is None:
            return None
        models = _models_in(fld.annotation)
        current = models[0] if len(models) == 1 else None
    return current


def _field(model: type[BaseModel], key: str) -> Any:
    for name, fld in model.model_fields.items():
        if key in (name, fld.alias):
            return fld
    return None


def _keys(model: type[BaseModel]) -> list[str]:
    return [fld.alias or name for name, fld in model.model_fields.items()]


def _unknown_key_hint(raw_parent: Loc, key: str) -> str:
    model = _model_at(raw_parent)
    if model is None:
        return ""
    keys = _keys(model)
    close = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "allowed keys here: " + ", ".join(keys)


_UNION_MEMBERS = {"str", "int", "bool", "float", "none", "list[str]"}


_STEP_KEYS = ("command", "capture")


def _step_kind(
    step: Any, loc: Loc, locations: Mapping[Loc, tuple[int, int]], at: tuple[int, int]
) -> tuple[str, str, int, int]:
    """A step with neither command: nor capture: (or both): name the misspelt key when there is one."""
    base = f"{where(loc)}: a step needs exactly one of `command:` (a show step) or `capture:` (a capture step)"
    if not isinstance(step, dict):
        return base, "e.g. - command: show version", *at
    keys = [k for k in step if isinstance(k, str)]
    if all(k in keys for k in _STEP_KEYS):
        return f"{where(loc)}: a step has both `command:` and `capture:`", "split it into two steps", *at
    for key in keys:
        close = difflib.get_close_matches(key, _STEP_KEYS, n=1, cutoff=0.6)
        if close and key not in _STEP_KEYS:
            line, col = locations.get(loc + (key,), at)
            return f"{where(loc)}: unknown key {key!r}", f"did you mean {close[0]!r}?", line, col
    return base, "e.g. - command: show version", *at


def issues_from_validation(
    exc: ValidationError, locations: Mapping[Loc, tuple[int, int]], file: str
) -> list[PlaybookIssue]:
    issues: list[PlaybookIssue] = []
    seen: set[tuple[int, int, str]] = set()
    for err in exc.errors(include_url=False):
        raw_loc: Loc = tuple(err["loc"])
        clean: Loc = tuple(p for p in raw_loc if not (isinstance(p, str) and p in STEP_TAGS))
        ctx = err.get("ctx") or {}
        if "at" in ctx:
            clean = clean + (str(ctx["at"]),)
        data_loc = existing_prefix(locations, clean)
        rest = clean[len(data_loc) :]
        line, col = locations.get(data_loc, (1, 1))
        hint = str(ctx.get("hint", ""))
        kind = err["type"]
        if kind == "missing":
            key = rest[0] if rest else raw_loc[-1]
            message = f"{where(data_loc)}: missing required key {key!r}"
            if data_loc == ():
                hint = hint or "a playbook needs at least name, platform and steps"
        elif kind == "extra_forbidden":
            key = data_loc[-1] if data_loc else raw_loc[-1]
            message = f"{where(data_loc[:-1])}: unknown key {key!r}"
            hint = _unknown_key_hint(raw_loc[:-1], str(key))
        elif kind == "step_kind":
            message, hint, line, col = _step_kind(err.get("input"), data_loc, locations, (line, col))
        else:
            msg = str(err["msg"])
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            shown = data_loc + tuple(p for p in rest if not (isinstance(p, str) and p in _UNION_MEMBERS))
            if len(data_loc) == 2 and data_loc[0] == "vars" and kind != "var_name":
                msg = "a variable value must be text, a number or true/false"
            message = f"{where(shown)}: {msg}"
        dedupe = (line, col, where(data_loc) if kind not in ("missing", "extra_forbidden") else message)
        if dedupe in seen:
            continue
        seen.add(dedupe)
        issues.append(PlaybookIssue(file, line, col, message, hint))
    return issues


__all__ = ["issues_from_validation"]
