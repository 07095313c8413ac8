"""Load and validate playbook files, reporting every problem as `file:line:col: message` with a hint.

The reader keeps the line and column of every key and list item (yaml_read.py), so schema errors,
unknown keys, undefined variables and bad durations all point at the line to fix. Reading is bounded
(yaml_read.py): size, nesting, alias expansion and number length.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..errors import UsageError
from . import variables
from .issues import Loc, PlaybookInvalid, PlaybookIssue, where, yaml_issue
from .schema import CaptureStep, Playbook, ShowStep
from .tree import Converter, locate, scalar
from .validation_errors import issues_from_validation
from .yaml_read import YamlLimit, load_bounded, size_problem


@dataclass
class LoadedPlaybook:
    """A validated playbook with where it came from: path, SHA-256 of its bytes, positions of its keys."""

    model: Playbook
    path: Path
    sha256: str
    locations: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    declared: frozenset[str] = frozenset()  # names under vars: and names used as {{ name }}

    def line_of(self, *loc: str | int) -> int:
        """1-based line of a key or list item (the nearest existing parent when absent)."""
        return locate(self.locations, tuple(loc))[0]

    def where(self, *loc: str | int) -> str:
        """`file:line` of a key or list item, for messages."""
        return f"{self.path}:{self.line_of(*loc)}"


def _platform_issues(model: Playbook, locations: Mapping[Loc, tuple[int, int]], file: str) -> list[PlaybookIssue]:
    from ..platforms import PlatformError, load_platform

    try:
        platform = load_platform(model.platform)
    except PlatformError as exc:
        line, col = locate(locations, ("platform",))
        return [PlaybookIssue(file, line, col, exc.message, exc.hint)]
    issues: list[PlaybookIssue] = []
    for section, steps in (("steps", model.steps), ("cleanup", model.cleanup)):
        for i, step in enumerate(steps):
            if isinstance(step, ShowStep) and step.mode == "exec" and not platform.supports_exec:
                line, col = locate(locations, (section, i, "mode"))
                issues.append(
                    PlaybookIssue(
                        file,
                        line,
                        col,
                        f"{where((section, i, 'mode'))}: platform {platform.name} has no exec mode",
                        "use mode: interactive",
                    )
                )
            if isinstance(step, CaptureStep) and step.slow_line == "buffer" and platform.slow_line is None:
                line, col = locate(locations, (section, i, "slow_line"))
                issues.append(
                    PlaybookIssue(
                        file,
                        line,
                        col,
                        f"{where((section, i, 'slow_line'))}: platform {platform.name} has no log-buffer mode",
                        "use slow_line: off or auto",
                    )
                )
    return issues


# --------------------------------------------------------------------------- entry points


@dataclass
class _Analysis:
    """What reading a playbook found: its issues, the model, and where each key sits."""

    issues: list[PlaybookIssue]
    model: Playbook | None = None
    raw: bytes = b""
    locations: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    declared: frozenset[str] | None = None  # None: the file did not parse far enough to know


def _read(path: Path) -> tuple[_Analysis, object]:
    """The YAML tree of the file (positions in the analysis), or an analysis holding the one issue that stopped
    the reading."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        issue = PlaybookIssue(file, 0, 0, f"cannot read playbook: {exc.strerror or exc}", "check the path")
        return _Analysis([issue]), None
    too_big = size_problem(raw)
    if too_big:
        return _Analysis([PlaybookIssue(file, 1, 1, too_big, "a playbook lists commands; split it")], raw=raw), None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return _Analysis([PlaybookIssue(file, line, 1, f"not UTF-8 text: {exc.reason}", "save the file as UTF-8")],
                         raw=raw), None
    try:
        data, locations = load_bounded(text)
    except YamlLimit as exc:
        return _Analysis([PlaybookIssue(file, exc.line, exc.column, str(exc), exc.hint)], raw=raw), None
    except Exception as exc:  # ruamel is imported only when it read the file (libyaml could not)
        from ruamel.yaml.error import YAMLError

        if not isinstance(exc, YAMLError):
            raise
        return _Analysis([yaml_issue(file, exc)], raw=raw), None
    if data is None:
        issue = PlaybookIssue(file, 1, 1, "empty playbook", "a playbook needs at least name, platform and steps")
        return _Analysis([issue], raw=raw), None
    if not isinstance(data, dict):
        issue = PlaybookIssue(file, 1, 1, "a playbook must be a YAML mapping (name:, platform:, steps:)",
                              "see `collector schema`")
        return _Analysis([issue], raw=raw), None
    return _Analysis([], raw=raw, locations=locations), data


def _analyse(path: Path, overrides: Mapping[str, str] | None) -> _Analysis:
    result, data = _read(path)
    if not isinstance(data, dict):
        return result
    file = str(path)
    locations = result.locations
    raw_vars = data.get("vars")
    file_vars = (
        {str(k): scalar(v) for k, v in raw_vars.items() if isinstance(v, str | int | float | bool)}
        if isinstance(raw_vars, dict)
        else {}
    )
    values = variables.merge_vars(file_vars, overrides)
    converter = Converter(values, locations, file)
    plain = converter.convert(data)
    issues = list(converter.issues)
    model: Playbook | None = None
    try:
        model = Playbook.model_validate(plain)
    except ValidationError as exc:
        issues.extend(issues_from_validation(exc, locations, file))
    if model is not None:
        issues.extend(_platform_issues(model, locations, file))
    issues.sort(key=lambda i: (i.line, i.column))
    declared = frozenset(str(k) for k in raw_vars) if isinstance(raw_vars, dict) else frozenset()
    return _Analysis(issues, model, result.raw, locations, values, declared | converter.referenced)


def check_overrides(declared: frozenset[str], overrides: Mapping[str, str] | None, where_from: str = "--var") -> None:
    """UsageError (exit 2) for an override of a variable the playbook neither declares nor uses."""
    unknown = sorted(set(overrides or {}) - declared)
    if not unknown:
        return
    name = unknown[0]
    close = difflib.get_close_matches(name, sorted(declared), n=1)
    known = ", ".join(sorted(declared)) or "none"
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(
        f"{where_from} {name}: the playbook has no variable {name!r} (its variables: {known})",
        hint=f"{hint}declare it under vars: in the playbook, or drop the {where_from}",
    )


def validate_playbook(path: str | Path, overrides: Mapping[str, str] | None = None) -> list[PlaybookIssue]:
    """Every problem in the playbook file (empty list = valid), sorted by line."""
    return _analyse(Path(path), overrides).issues


def load_playbook(path: str | Path, overrides: Mapping[str, str] | None = None) -> LoadedPlaybook:
    """The validated playbook with {{ vars }} substituted; PlaybookInvalid (a PlaybookError) names the first issue.

    An override (--var) of a variable the playbook does not declare or use is a UsageError naming the known ones.
    """
    p = Path(path)
    result = _analyse(p, overrides)
    if result.declared is not None:
        check_overrides(result.declared, overrides)
    if result.issues or result.model is None:
        raise PlaybookInvalid(result.issues or [PlaybookIssue(str(p), 1, 1, "playbook did not load")])
    return LoadedPlaybook(
        model=result.model, path=p, sha256=hashlib.sha256(result.raw).hexdigest(), locations=result.locations,
        variables=result.values, declared=result.declared or frozenset(),
    )


__all__ = [
    "LoadedPlaybook",
    "PlaybookInvalid",
    "PlaybookIssue",
    "check_overrides",
    "load_playbook",
    "validate_playbook",
]
