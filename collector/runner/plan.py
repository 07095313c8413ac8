"""Turns a loaded playbook into the concrete, numbered steps the runner executes.

Variables are already substituted; timeouts are seconds; each step knows its output file name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..playbook.durations import parse_duration
from ..store.rundir import slugify

DEFAULT_IDLE = 60.0


@dataclass
class PlannedStep:
    index: int
    name: str
    command: str
    kind: str = "show"  # show | cleanup | capture
    idle_timeout: float = DEFAULT_IDLE
    max_time: float | None = None
    mode: str = "interactive"
    resume: str = "rerun"
    offset_command: str | None = None
    expect_error: bool = False
    allow_changes: bool = False
    session_state: bool = False
    spec: Any = None  # the schema object (capture steps need the whole thing)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.index:03d}-{slugify(self.name, 60)}.txt"


def _seconds(value: Any, default: float | None) -> float | None:
    if value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    return parse_duration(value)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return getattr(obj, name, default) if obj is not None else default


def plan_steps(playbook: Any, render: Any = None) -> list[PlannedStep]:
    """Main steps then cleanup steps, numbered 1..N in one sequence (order shows in file names)."""
    defaults = _get(playbook, "defaults")
    d_idle = _seconds(_get(defaults, "idle_timeout"), DEFAULT_IDLE) or DEFAULT_IDLE
    d_max = _seconds(_get(defaults, "max_time"), None)
    playbook_allows = bool(_get(playbook, "allow_changes", False))
    out: list[PlannedStep] = []
    sources = [("show", s) for s in _get(playbook, "steps", [])]
    sources += [("cleanup", s) for s in _get(playbook, "cleanup", [])]
    for n, (kind, step) in enumerate(sources, start=1):
        capture = _get(step, "capture")
        command = _get(step, "command") or ""
        if render is not None and command:
            command = render(command)
        name = _get(step, "name") or (capture if capture else command)
        out.append(
            PlannedStep(
                index=n,
                name=str(name),
                command=command,
                kind="capture" if capture else kind,
                idle_timeout=_seconds(_get(step, "idle_timeout"), d_idle) or d_idle,
                max_time=_seconds(_get(step, "max_time"), d_max),
                mode=_get(step, "mode", "interactive") or "interactive",
                resume=_get(step, "resume", "rerun") or "rerun",
                offset_command=_get(step, "offset_command"),
                expect_error=bool(_get(step, "expect_error", False)),
                allow_changes=bool(_get(step, "allow_changes", False)),
                session_state=bool(_get(step, "session_state", False)),
                spec=step,
                extra={"playbook_allow_changes": playbook_allows},
            )
        )
    return out


def playbook_info(loaded: Any, overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """What run.json records about the playbook: name, path, hash, and the --var overrides (for resume)."""
    model = loaded.model
    return {
        "name": model.name,
        "path": str(Path(loaded.path).resolve()),
        "sha256": loaded.sha256,
        "platform": model.platform,
        "description": getattr(model, "description", ""),
        "vars_overrides": dict(overrides or {}),
    }
