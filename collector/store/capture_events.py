"""Journal events of long captures and their triggers: every one carries the capture's step and name.

Registered with the codec like every other event (store/event_codec.py imports this module). The records that
cleanup and resume need after a power failure (mode, precheck, start, stop, gaps, rate guard, triggers) are durable.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import Event, StepCompleted, StepInterrupted


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureEvent(Event):
    """Fields every capture event carries: the capture's step number and name."""

    step: int
    capture: str


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureMode(CaptureEvent):
    """How a capture reads the device (streaming or polling), and why."""

    kind = "capture-mode"
    durable = True
    mode: str
    reason: str


@dataclass(kw_only=True, eq=False, repr=False)
class CapturePrecheck(CaptureEvent):
    """A capture's precheck command, its value and verdict, and its output file."""

    kind = "capture-precheck"
    durable = True
    command: str
    ok: bool
    value: float | None
    reason: str
    file: str
    raw_start: int
    raw_end: int


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureStarted(CaptureEvent):
    """A capture began: the commands sent, its folder and its mode."""

    kind = "capture-started"
    durable = True
    commands: list[str]
    dir: str
    mode: str


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureRestarted(CaptureStarted):
    """A capture began again after a reconnect."""

    kind = "capture-restarted"


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureStartError(CaptureEvent):
    """A capture's start command was refused by the device."""

    kind = "capture-start-error"
    command: str
    error_marker: str


@dataclass(kw_only=True, eq=False, repr=False)
class SlowLineEnabled(CaptureEvent):
    """The line was slowed for a capture (e.g. logging rate limited) by these commands."""

    kind = "slow-line-enabled"
    commands: list[str]


@dataclass(kw_only=True, eq=False, repr=False)
class SlowLineDisabled(SlowLineEnabled):
    """The capture's line settings were put back."""

    kind = "slow-line-disabled"


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureStopSent(CaptureEvent):
    """The commands that stop a capture were sent, and why."""

    kind = "capture-stop-sent"
    durable = True
    commands: list[str]
    reason: str


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureStopFailed(CaptureEvent):
    """A capture's stop commands could not be sent."""

    kind = "capture-stop-failed"
    durable = True
    cause: str


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureStopped(CaptureEvent):
    """A capture ended: status, lines, bytes, files, gaps, triggers and keepalives."""

    kind = "capture-stopped"
    durable = True
    status: str
    reason: str
    lines: int
    bytes: int
    files: list[str]
    gaps: int
    triggers_fired: int
    keepalives: int
    mode: str


@dataclass(kw_only=True, eq=False, repr=False)
class CaptureGap(CaptureEvent):
    """A capture lost the line for a while (its start or its end), with where and why."""

    kind = "capture-gap"
    durable = True
    phase: str  # start | end
    lines_before: int
    raw_offset: int | None = None
    cause: str | None = None
    seconds: float | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class CapturePollResync(CaptureEvent):
    """A polled capture found its place in the output again."""

    kind = "capture-poll-resync"
    lines: int
    cause: str


@dataclass(kw_only=True, eq=False, repr=False)
class RateGuardTripped(CaptureEvent):
    """A capture's line rate went over its limit, and the capture was stopped."""

    kind = "rate-guard"
    durable = True
    rate: float
    limit: int
    seconds: float


@dataclass(kw_only=True, eq=False, repr=False)
class TriggerFired(CaptureEvent):
    """A capture line matched a trigger, which runs its commands."""

    kind = "trigger-fired"
    durable = True
    trigger: int
    run: int
    line: str
    commands: list[str]
    capture_line: int | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class TriggerStepCompleted(StepCompleted):
    """A command a trigger ran ended (a step-completed with the trigger and its run)."""

    kind = "trigger-step-completed"
    trigger: int
    run: int


@dataclass(kw_only=True, eq=False, repr=False)
class TriggerStepInterrupted(StepInterrupted):
    """A command a trigger ran was cut (a step-interrupted with the trigger and its run)."""

    kind = "trigger-step-interrupted"
    trigger: int
    run: int
    command: str
