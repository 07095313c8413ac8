"""Turns a validated playbook into the typed, numbered steps the runner executes.

Variables are already substituted and durations are seconds (the schema did both); each step knows its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..playbook.loader import LoadedPlaybook
from ..playbook.schema import DEFAULT_PARSE_MAX, CaptureStep, Playbook, ShowStep
from ..store.rundir import slugify
from .run_info import PlaybookRecord

DEFAULT_IDLE = 60.0
StepKind = Literal["show", "cleanup", "capture"]


@dataclass
class PlannedStep:
    """One step of the plan: its number, name, command, kind and limits."""

    index: int
    name: str
    command: str
    kind: StepKind = "show"
    idle_timeout: float = DEFAULT_IDLE
    max_time: float | None = None
    mode: Literal["interactive", "exec"] = "interactive"
    resume: Literal["rerun", "skip", "offset"] = "rerun"
    offset_command: str | None = None
    expect_error: bool = False
    may_change: bool = False  # the playbook or the step allows changes (the CLI flag must say so too)
    session_state: bool = False
    capture: CaptureStep | None = None  # capture steps: the whole validated capture spec
    parse: str = "auto"  # which parser reads the output after the run (collector.parse)
    parse_max_bytes: int = DEFAULT_PARSE_MAX

    @property
    def filename(self) -> str:
        return f"{self.index:03d}-{slugify(self.name, 60)}.txt"


def _show(index: int, step: ShowStep, kind: StepKind, model: Playbook) -> PlannedStep:
    idle = step.idle_timeout if step.idle_timeout is not None else model.defaults.idle_timeout
    return PlannedStep(
        index=index, name=step.label, command=step.command, kind=kind, idle_timeout=idle,
        max_time=step.max_time if step.max_time is not None else model.defaults.max_time,
        mode=step.mode, resume=step.resume, offset_command=step.offset_command, expect_error=step.expect_error,
        may_change=model.allow_changes or step.allow_changes, session_state=step.session_state,
        parse=step.parse or model.defaults.parse,
        parse_max_bytes=step.parse_max_size or model.defaults.parse_max_size,
    )


def plan_steps(model: Playbook) -> list[PlannedStep]:
    """Main steps then cleanup steps, numbered 1..N in one sequence (order shows in file names)."""
    out: list[PlannedStep] = []
    for n, step in enumerate([*model.steps, *model.cleanup], start=1):
        if isinstance(step, CaptureStep):
            out.append(PlannedStep(index=n, name=step.capture, command="", kind="capture",
                                   idle_timeout=model.defaults.idle_timeout, max_time=model.defaults.max_time,
                                   may_change=model.allow_changes or step.allow_changes, capture=step))
        else:
            out.append(_show(n, step, "cleanup" if n > len(model.steps) else "show", model))
    return out


def playbook_info(loaded: LoadedPlaybook, overrides: dict[str, str] | None = None) -> PlaybookRecord:
    """What run.json records about the playbook: name, path, hash, and the --var overrides (for resume)."""
    model = loaded.model
    return PlaybookRecord(name=model.name, path=str(Path(loaded.path).resolve()), sha256=loaded.sha256,
                          platform=model.platform, description=model.description,
                          vars_overrides=dict(overrides or {}), allow_changes=model.allow_changes)
