"""Whole-playbook checks for CLI commands: `validate` (schema + read-only guard) and `resume` (re-check run.json).

Both raise or report the same errors `run` would, before anything connects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GuardRefused, PlaybookError, UsageError
from ..platforms import Platform, PlatformError, load_platform
from .guard import GuardRefusal, check_playbook, guard_refusals
from .loader import LoadedPlaybook, PlaybookInvalid, PlaybookIssue, load_playbook


@dataclass
class ValidationReport:
    """What `collector validate` found: schema issues (exit 3) or, for a valid playbook, guard refusals (exit 4)."""

    path: Path
    issues: list[PlaybookIssue] = field(default_factory=list)
    refusals: list[GuardRefusal] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.issues:
            return PlaybookError.exit_code
        return GuardRefused.exit_code if self.refusals else 0

    def lines(self) -> list[tuple[str, str]]:
        """(`file:line:col: message`, hint) for every problem, schema issues first, in file order."""
        out = [(str(i), i.hint) for i in self.issues]
        for r in self.refusals:
            text = f"{self.path}:{r.line}:1: {r.step}: `{r.command}` refused by the read-only guard: {r.verdict.reason}"
            hint = "" if r.verdict.overridable else "put each command in its own step"
            out.append((text, hint or "allow it with allow_changes: true in the playbook AND --allow-changes"))
        return out


def validate_with_guard(
    path: str | Path, allow_changes: bool = False, overrides: Mapping[str, str] | None = None
) -> ValidationReport:
    """Schema check, then (when the playbook is valid) the read-only guard on every command, as `run` would."""
    p = Path(path)
    try:
        loaded = load_playbook(p, overrides)
    except PlaybookInvalid as exc:
        return ValidationReport(p, issues=exc.issues)
    platform = load_platform(loaded.model.platform)
    return ValidationReport(p, refusals=guard_refusals(loaded, platform, allow_changes))


class RecordedPlaybookRefused(PlaybookError):
    """run.json names a playbook (or variables) that no longer matches what the run started with."""


def recheck_recorded(
    info: Mapping[str, Any], platform: str | None = None, allow_changes: bool = False
) -> tuple[LoadedPlaybook, Platform]:
    """Load the playbook a run recorded (run.json "playbook": path, sha256, vars_overrides) and guard it again.

    `collector resume` calls this before connecting, so an edited run.json or playbook cannot smuggle a command
    past the guard. Raises RecordedPlaybookRefused / PlaybookError (exit 3) or GuardRefused (exit 4).
    """
    path = info.get("path")
    if not isinstance(path, str) or not path:
        raise RecordedPlaybookRefused("run.json does not say which playbook the run used", hint="start a new run")
    overrides = info.get("vars_overrides") or {}
    if not isinstance(overrides, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in overrides.items()
    ):
        raise RecordedPlaybookRefused("run.json: vars_overrides must map variable names to text",
                                      hint="the run directory was edited; start a new run")
    try:
        loaded = load_playbook(Path(path), dict(overrides))
    except UsageError as exc:  # a recorded --var the playbook does not declare: run.json or the playbook changed
        raise RecordedPlaybookRefused(f"run.json: {exc.message}", hint="start a new run") from None
    recorded = info.get("sha256")
    if recorded and loaded.sha256 != recorded:
        raise RecordedPlaybookRefused(
            f"the playbook {path} changed since the run started",
            hint="restore the original playbook, or start a new run",
        )
    name = platform or info.get("platform") or loaded.model.platform
    try:
        resolved = load_platform(str(name))
    except PlatformError as exc:
        raise RecordedPlaybookRefused(f"run.json: {exc.message}", hint="start a new run") from None
    check_playbook(loaded, resolved, allow_changes)
    return loaded, resolved


__all__ = ["RecordedPlaybookRefused", "ValidationReport", "recheck_recorded", "validate_with_guard"]
