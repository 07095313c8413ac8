"""Folds a run's journal into per-step records and outages: the facts the manifest and resume use.

Pure functions over journal events; no device and no file writing here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Attempt:
    attempt: int
    raw_start: int
    raw_end: int | None = None
    bytes: int = 0
    status: str = "started"  # started | completed | interrupted
    cause: str | None = None
    partial_file: str | None = None
    started_at: str | None = None
    ended_at: str | None = None


@dataclass
class StepRecord:
    step: int
    name: str
    command: str
    kind: str = "show"  # show | capture | cleanup | trigger
    file: str | None = None
    status: str = "pending"  # pending | ok | error | timeout | failed | skipped | interrupted
    error_marker: str | None = None
    timed_out: bool = False
    truncated: bool = False
    started_at: str | None = None
    ended_at: str | None = None
    duration: float | None = None
    bytes: int = 0
    sha256: str | None = None
    raw_start: int | None = None
    raw_end: int | None = None
    exit_status: int | None = None
    mode: str = "interactive"
    attempts: list[Attempt] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in ("ok", "error", "timeout", "failed", "skipped")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outage:
    start: str
    cause: str
    end: str | None = None
    reconnect_attempts: int = 0


@dataclass
class RunState:
    steps: dict[tuple[str, int], StepRecord] = field(default_factory=dict)
    outages: list[Outage] = field(default_factory=list)
    status: str = "running"
    cleanup: str = "not-run"  # not-run | done | pending | failed
    started_at: str | None = None
    ended_at: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    debug_active: bool = False

    def ordered(self, kind: str | None = None) -> list[StepRecord]:
        """Main steps (trigger steps right after their capture), then cleanup steps."""
        recs = sorted(self.steps.values(), key=lambda r: (r.kind == "cleanup", r.step, r.kind == "trigger"))
        return [r for r in recs if kind is None or r.kind == kind]


_STEP_FIELDS = set(StepRecord.__dataclass_fields__)


def fold(events: Any) -> RunState:
    """Replay journal events into a RunState (last word wins, attempts accumulate)."""
    state = RunState()
    for ev in events:
        kind = ev.get("event")
        if kind == "run-started":
            state.started_at = state.started_at or ev.get("ts")
            state.info.update({k: v for k, v in ev.items() if k not in ("event", "ts", "mono")})
            state.status = "running"
        elif kind == "step-started":
            key = (ev.get("kind", "show") if ev.get("kind") == "cleanup" else "main", ev["step"])
            rec = state.steps.get(key)
            if rec is None:
                rec = StepRecord(step=ev["step"], name=ev.get("name", ""), command=ev.get("command", ""))
                state.steps[key] = rec
            rec.kind = ev.get("kind", rec.kind)
            rec.mode = ev.get("mode", rec.mode)
            rec.status = "running"
            rec.started_at = rec.started_at or ev.get("ts")
            rec.attempts.append(Attempt(attempt=ev.get("attempt", len(rec.attempts) + 1),
                                        raw_start=ev.get("raw_offset", 0), started_at=ev.get("ts")))
        elif kind in ("step-completed", "step-interrupted", "step-skipped"):
            key = ("cleanup" if ev.get("kind") == "cleanup" else "main", ev["step"])
            rec = state.steps.get(key)
            if rec is None:
                rec = StepRecord(step=ev["step"], name=ev.get("name", ""), command=ev.get("command", ""))
                state.steps[key] = rec
            att = rec.attempts[-1] if rec.attempts else None
            if att is not None:
                att.raw_end = ev.get("raw_end")
                att.bytes = ev.get("bytes", 0)
                att.ended_at = ev.get("ts")
                att.status = "completed" if kind == "step-completed" else "interrupted"
                att.cause = ev.get("cause")
                att.partial_file = ev.get("partial_file")
            if kind == "step-completed":
                for k, v in ev.items():
                    if k in _STEP_FIELDS and k not in ("step", "attempts", "kind"):
                        setattr(rec, k, v)
                rec.ended_at = ev.get("ts")
            elif kind == "step-skipped":
                rec.status = "skipped"
                rec.ended_at = ev.get("ts")
                rec.extra["skip_reason"] = ev.get("cause")
            else:
                rec.status = "interrupted"
        elif kind in ("trigger-step-completed", "trigger-step-interrupted"):
            # steps run by a capture trigger: their own records, numbered after the capture's step
            seq = sum(1 for k in state.steps if k[0] == "trigger") + 1
            rec = StepRecord(step=ev.get("step", 0), name=ev.get("name") or ev.get("command", ""),
                             command=ev.get("command", ""), kind="trigger", started_at=ev.get("ts"))
            for k, v in ev.items():
                if k in _STEP_FIELDS and k not in ("step", "attempts", "kind", "name", "command"):
                    setattr(rec, k, v)
            if kind == "trigger-step-interrupted":
                rec.status = "interrupted"
                rec.file = None
                rec.extra["partial_file"] = ev.get("partial_file")
            rec.ended_at = ev.get("ts")
            rec.extra.update({"trigger": ev.get("trigger"), "run": ev.get("run")})
            state.steps[("trigger", seq)] = rec
        elif kind == "connection-lost":
            state.outages.append(Outage(start=ev.get("ts", ""), cause=ev.get("cause", "")))
        elif kind == "reconnect-attempt" and state.outages:
            state.outages[-1].reconnect_attempts += 1
        elif kind == "reconnected" and state.outages:
            state.outages[-1].end = ev.get("ts")
        elif kind == "debug-on":
            state.debug_active = True
        elif kind == "debug-off":
            state.debug_active = False
        elif kind == "cleanup-completed":
            state.cleanup = "done"
            state.debug_active = False
        elif kind == "cleanup-pending":
            state.cleanup = "pending"
        elif kind == "run-ended":
            state.status = ev.get("status", "ended")
            state.ended_at = ev.get("ts")
        elif kind == "run-resumed":
            state.status = "running"
    return state
