"""Load and validate playbook files, reporting every problem as `file:line:col: message` with a hint.

ruamel.yaml round-trip parsing keeps the line and column of every key and list item, so schema errors,
unknown keys, undefined variables and bad durations all point at the line to fix.
"""

from __future__ import annotations

import difflib
import hashlib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from ..errors import PlaybookError
from . import variables
from .schema import STEP_TAGS, CaptureStep, Playbook, ShowStep

Loc = tuple[str | int, ...]
_SUBSTITUTED_SECTIONS = ("steps", "cleanup")


@dataclass(frozen=True)
class PlaybookIssue:
    """One problem in a playbook file, with its position (1-based line and column)."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def format(self) -> str:
        """The issue with its hint, on one line."""
        return f"{self} (hint: {self.hint})" if self.hint else str(self)


class PlaybookInvalid(PlaybookError):
    """A playbook that does not validate; `.issues` lists every problem found (the message names the first)."""

    def __init__(self, issues: list[PlaybookIssue]) -> None:
        first = issues[0]
        more = f" (and {len(issues) - 1} more; see `collector validate`)" if len(issues) > 1 else ""
        super().__init__(f"{first}{more}", hint=first.hint or None)
        self.issues = issues


@dataclass
class LoadedPlaybook:
    """A validated playbook with where it came from: path, SHA-256 of its bytes, positions of its keys."""

    model: Playbook
    path: Path
    sha256: str
    locations: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)

    def line_of(self, *loc: str | int) -> int:
        """1-based line of a key or list item (the nearest existing parent when absent)."""
        return _locate(self.locations, tuple(loc))[0]

    def where(self, *loc: str | int) -> str:
        """`file:line` of a key or list item, for messages."""
        return f"{self.path}:{self.line_of(*loc)}"


# --------------------------------------------------------------------------- YAML → plain data + positions


def _collect_locations(node: Any, loc: Loc, out: dict[Loc, tuple[int, int]]) -> None:
    if isinstance(node, CommentedMap):
        for key in node:
            try:
                line, col = node.lc.key(key)
            except (KeyError, TypeError, AttributeError):
                line, col = out.get(loc, (0, 0))
                line, col = line - 1, col - 1
            out[loc + (key,)] = (line + 1, col + 1)
            _collect_locations(node[key], loc + (key,), out)
    elif isinstance(node, CommentedSeq):
        for i, item in enumerate(node):
            try:
                line, col = node.lc.item(i)
            except (KeyError, TypeError, AttributeError):
                line, col = out.get(loc, (1, 1))
                line, col = line - 1, col - 1
            out[loc + (i,)] = (line + 1, col + 1)
            _collect_locations(item, loc + (i,), out)


def _locate(locations: Mapping[Loc, tuple[int, int]], loc: Loc) -> tuple[int, int]:
    return locations[_existing_prefix(locations, loc)]


def _existing_prefix(locations: Mapping[Loc, tuple[int, int]], loc: Loc) -> Loc:
    for n in range(len(loc), 0, -1):
        if loc[:n] in locations:
            return loc[:n]
    return ()


class _Converter:
    """Turns the round-trip tree into plain Python data, substituting {{ vars }} under steps/cleanup."""

    def __init__(self, values: Mapping[str, str], locations: Mapping[Loc, tuple[int, int]], file: str) -> None:
        self.values = values
        self.locations = locations
        self.file = file
        self.issues: list[PlaybookIssue] = []

    def convert(self, node: Any, loc: Loc = (), substitute: bool = False) -> Any:
        if isinstance(node, dict):
            out: dict[Any, Any] = {}
            for key, value in node.items():
                sub = substitute or (loc == () and key in _SUBSTITUTED_SECTIONS)
                out[_scalar(key)] = self.convert(value, loc + (key,), sub)
            return out
        if isinstance(node, list):
            return [self.convert(item, loc + (i,), substitute) for i, item in enumerate(node)]
        value = _scalar(node)
        if substitute and isinstance(value, str) and "{{" in value:
            problems = variables.problems(value, self.values)
            if problems:
                line, col = _locate(self.locations, loc)
                for p in problems:
                    hint = "define it under vars: or pass --var NAME=VALUE" if p.name else ""
                    self.issues.append(PlaybookIssue(self.file, line, col, f"{_where(loc)}: {p.message}", hint))
                return value
            return variables.substitute(value, self.values)
        return value


def _scalar(node: Any) -> Any:
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


# --------------------------------------------------------------------------- error mapping


def _where(loc: Loc) -> str:
    rest: Loc = loc
    head = ""
    if len(loc) >= 2 and loc[0] in _SUBSTITUTED_SECTIONS and isinstance(loc[1], int):
        head = f"{'step' if loc[0] == 'steps' else 'cleanup step'} {loc[1] + 1}"
        rest = loc[2:]
    dotted = ""
    for part in rest:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    if head and dotted:
        return f"{head}, {dotted}"
    return head or dotted or "playbook"


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


def _issues_from_validation(
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
        data_loc = _existing_prefix(locations, clean)
        rest = clean[len(data_loc) :]
        line, col = locations.get(data_loc, (1, 1))
        hint = str(ctx.get("hint", ""))
        kind = err["type"]
        if kind == "missing":
            key = rest[0] if rest else raw_loc[-1]
            message = f"{_where(data_loc)}: missing required key {key!r}"
            if data_loc == ():
                hint = hint or "a playbook needs at least name, platform and steps"
        elif kind == "extra_forbidden":
            key = data_loc[-1] if data_loc else raw_loc[-1]
            message = f"{_where(data_loc[:-1])}: unknown key {key!r}"
            hint = _unknown_key_hint(raw_loc[:-1], str(key))
        else:
            msg = str(err["msg"])
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            shown = data_loc + tuple(p for p in rest if not (isinstance(p, str) and p in _UNION_MEMBERS))
            if len(data_loc) == 2 and data_loc[0] == "vars" and kind != "var_name":
                msg = "a variable value must be text, a number or true/false"
            message = f"{_where(shown)}: {msg}"
        dedupe = (line, col, _where(data_loc) if kind not in ("missing", "extra_forbidden") else message)
        if dedupe in seen:
            continue
        seen.add(dedupe)
        issues.append(PlaybookIssue(file, line, col, message, hint))
    return issues


# --------------------------------------------------------------------------- platform-dependent checks


def _platform_issues(model: Playbook, locations: Mapping[Loc, tuple[int, int]], file: str) -> list[PlaybookIssue]:
    from ..platforms import PlatformError, load_platform

    try:
        platform = load_platform(model.platform)
    except PlatformError as exc:
        line, col = _locate(locations, ("platform",))
        return [PlaybookIssue(file, line, col, exc.message, exc.hint)]
    issues: list[PlaybookIssue] = []
    for section, steps in (("steps", model.steps), ("cleanup", model.cleanup)):
        for i, step in enumerate(steps):
            if isinstance(step, ShowStep) and step.mode == "exec" and not platform.supports_exec:
                line, col = _locate(locations, (section, i, "mode"))
                issues.append(
                    PlaybookIssue(
                        file,
                        line,
                        col,
                        f"{_where((section, i, 'mode'))}: platform {platform.name} has no exec mode",
                        "use mode: interactive",
                    )
                )
            if isinstance(step, CaptureStep) and step.slow_line == "buffer" and platform.slow_line is None:
                line, col = _locate(locations, (section, i, "slow_line"))
                issues.append(
                    PlaybookIssue(
                        file,
                        line,
                        col,
                        f"{_where((section, i, 'slow_line'))}: platform {platform.name} has no log-buffer mode",
                        "use slow_line: off or auto",
                    )
                )
    return issues


# --------------------------------------------------------------------------- entry points


def _analyse(
    path: Path, overrides: Mapping[str, str] | None
) -> tuple[list[PlaybookIssue], Playbook | None, bytes, dict[Loc, tuple[int, int]], dict[str, str]]:
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return (
            [PlaybookIssue(file, 0, 0, f"cannot read playbook: {exc.strerror or exc}", "check the path")],
            None,
            b"",
            {},
            {},
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return (
            [PlaybookIssue(file, line, 1, f"not UTF-8 text: {exc.reason}", "save the file as UTF-8")],
            None,
            raw,
            {},
            {},
        )
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        return [_yaml_issue(file, exc)], None, raw, {}, {}
    if data is None:
        return (
            [PlaybookIssue(file, 1, 1, "empty playbook", "a playbook needs at least name, platform and steps")],
            None,
            raw,
            {},
            {},
        )
    if not isinstance(data, CommentedMap):
        return (
            [
                PlaybookIssue(
                    file, 1, 1, "a playbook must be a YAML mapping (name:, platform:, steps:)", "see `collector schema`"
                )
            ],
            None,
            raw,
            {},
            {},
        )
    locations: dict[Loc, tuple[int, int]] = {(): (1, 1)}
    _collect_locations(data, (), locations)
    raw_vars = data.get("vars")
    file_vars = (
        {str(k): _scalar(v) for k, v in raw_vars.items() if isinstance(v, str | int | float | bool)}
        if isinstance(raw_vars, dict)
        else {}
    )
    values = variables.merge_vars(file_vars, overrides)
    converter = _Converter(values, locations, file)
    plain = converter.convert(data)
    issues = list(converter.issues)
    model: Playbook | None = None
    try:
        model = Playbook.model_validate(plain)
    except ValidationError as exc:
        issues.extend(_issues_from_validation(exc, locations, file))
    if model is not None:
        issues.extend(_platform_issues(model, locations, file))
    issues.sort(key=lambda i: (i.line, i.column))
    return issues, model, raw, locations, values


def _yaml_issue(file: str, exc: YAMLError) -> PlaybookIssue:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    message = f"YAML syntax error: {problem}"
    if context:
        message += f" ({context}"
        if context_mark is not None and context_mark.line + 1 != line:
            message += f" started at line {context_mark.line + 1}"
        message += ")"
    hint = "check indentation, quotes and brackets; quote commands that contain ': ' or start with special characters"
    if "duplicate key" in problem:
        hint = "each key may appear once per mapping"
    elif "mapping values are not allowed" in problem:
        hint = "quote text that contains ': ' or ends with ':', e.g. command: 'dir flash:'"
    return PlaybookIssue(file, line, col, message, hint)


def validate_playbook(path: str | Path, overrides: Mapping[str, str] | None = None) -> list[PlaybookIssue]:
    """Every problem in the playbook file (empty list = valid), sorted by line."""
    issues, *_ = _analyse(Path(path), overrides)
    return issues


def load_playbook(path: str | Path, overrides: Mapping[str, str] | None = None) -> LoadedPlaybook:
    """The validated playbook with {{ vars }} substituted; PlaybookInvalid (a PlaybookError) names the first issue."""
    p = Path(path)
    issues, model, raw, locations, values = _analyse(p, overrides)
    if issues or model is None:
        raise PlaybookInvalid(issues or [PlaybookIssue(str(p), 1, 1, "playbook did not load")])
    return LoadedPlaybook(
        model=model, path=p, sha256=hashlib.sha256(raw).hexdigest(), locations=locations, variables=values
    )


__all__ = [
    "LoadedPlaybook",
    "PlaybookInvalid",
    "PlaybookIssue",
    "load_playbook",
    "validate_playbook",
]
