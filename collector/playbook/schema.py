"""The playbook schema (pydantic v2): show steps, capture steps, cleanup, defaults, variables.

Durations and sizes are written as text in YAML ("120s", "64MiB") and exposed as seconds (float) / bytes (int).
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..units import DURATION_HELP, DURATION_PATTERN, SIZE_HELP, SIZE_PATTERN, parse_duration, parse_size
from .variables import NAME_RE


def _duration(value: Any) -> Any:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise PydanticCustomError("duration", "{reason}", {"reason": str(exc)}) from None
    raise PydanticCustomError(
        "duration",
        "bad duration {value}: expected text like 30s",
        {"value": repr(value), "hint": f"use {DURATION_HELP}"},
    )


def _size(value: Any) -> Any:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return parse_size(value)
        except ValueError as exc:
            raise PydanticCustomError("size", "{reason}", {"reason": str(exc)}) from None
    raise PydanticCustomError(
        "size", "bad size {value}: expected text like 64MiB", {"value": repr(value), "hint": f"use {SIZE_HELP}"}
    )


def _regex(value: Any) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError("regex", "expected a regular expression (text), got {value}", {"value": repr(value)})
    try:
        re.compile(value)
    except re.error as exc:
        raise PydanticCustomError(
            "regex",
            "bad regular expression {value}: {reason}",
            {"value": repr(value), "reason": str(exc), "hint": "Python `re` syntax; quote it in YAML ('...')"},
        ) from None
    return value


_DURATION_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": DURATION_PATTERN}, {"type": "number", "minimum": 0}],
    "description": f"Duration: {DURATION_HELP}",
}
_SIZE_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": SIZE_PATTERN}, {"type": "integer", "minimum": 0}],
    "description": f"Size: {SIZE_HELP}",
}

Duration = Annotated[float, BeforeValidator(_duration), Ge(0), WithJsonSchema(_DURATION_SCHEMA)]
PositiveDuration = Annotated[float, BeforeValidator(_duration), Gt(0), WithJsonSchema(_DURATION_SCHEMA)]
Size = Annotated[int, BeforeValidator(_size), Gt(0), WithJsonSchema(_SIZE_SCHEMA)]
Regex = Annotated[str, BeforeValidator(_regex), WithJsonSchema({"type": "string", "format": "regex"})]
Command = Annotated[str, Field(min_length=1, description="A CLI command, sent as one line; {{ var }} allowed")]


def _no_newline(value: str, what: str = "command") -> str:
    text = value.strip()
    if not text:
        raise PydanticCustomError("command", "empty {what}", {"what": what})
    if "\n" in text or "\r" in text:
        raise PydanticCustomError(
            "command",
            "a {what} must be one line: {value}",
            {"what": what, "value": repr(value), "hint": "put each command in its own step or list item"},
        )
    return text


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StepDefaults(_Model):
    """Defaults applied to every show step that does not set its own value."""

    idle_timeout: PositiveDuration = Field(
        default=60.0, description="No byte for this long = the step stalled (default 60s)"
    )
    max_time: PositiveDuration | None = Field(default=None, description="Optional overall cap per step")


class ShowStep(_Model):
    """Send one command and record its output up to the next prompt."""

    command: Command
    name: str | None = Field(default=None, description="Label and file-name slug; defaults to the command")
    idle_timeout: PositiveDuration | None = Field(default=None, description="No byte for this long = stalled")
    max_time: PositiveDuration | None = Field(default=None, description="Optional overall cap")
    mode: Literal["interactive", "exec"] = Field(
        default="interactive", description="interactive: in the CLI session; exec: a separate SSH exec channel (linux)"
    )
    resume: Literal["rerun", "skip", "offset"] = Field(
        default="rerun", description="After a drop mid-step: run it again, skip it, or continue with offset_command"
    )
    offset_command: str | None = Field(
        default=None,
        description="Command with {offset} (0-based) or {offset1} (1-based, tail -c +N); for resume: offset",
    )
    expect_error: bool = Field(default=False, description="An error marker in the output is expected (not a failure)")
    allow_changes: bool = Field(
        default=False, description="This step may change the device (needs --allow-changes too)"
    )
    session_state: bool = Field(default=False, description="Re-run after every reconnect (e.g. terminal monitor)")
    tags: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"command": data}
        return data

    @field_validator("command")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _no_newline(value)

    @model_validator(mode="after")
    def _check(self) -> ShowStep:
        if self.name is None or not self.name.strip():
            self.name = self.command
        if self.resume == "offset" and not self.offset_command:
            raise PydanticCustomError(
                "offset_command",
                "offset needs offset_command too (a command with {offset})",
                {
                    "at": "resume",
                    "hint": "e.g. offset_command: 'show logging | begin {offset}' or use resume: rerun",
                },
            )
        if self.offset_command is not None:
            _no_newline(self.offset_command, "offset_command")
            if "{offset}" not in self.offset_command and "{offset1}" not in self.offset_command:
                raise PydanticCustomError(
                    "offset_command",
                    "offset_command must contain {offset} or {offset1}",
                    {"at": "offset_command", "hint": "it marks where the resume point goes"},
                )
        return self

    @property
    def kind(self) -> str:
        return "show"

    @property
    def label(self) -> str:
        return self.name or self.command


class Until(_Model):
    """When a capture stops by itself (SIGINT/SIGTERM always stop it too). At least a duration or a byte cap."""

    duration: PositiveDuration | None = Field(default=None, description="Stop after this long (e.g. 2h)")
    bytes: Size | None = Field(default=None, description="Stop after this much output (e.g. 500MB)")
    match: Regex | None = Field(default=None, description="Stop when a line matches this regex")
    stop_file: str | None = Field(default=None, description="Stop when this local file exists")

    @model_validator(mode="after")
    def _capped(self) -> Until:
        if self.duration is None and self.bytes is None:
            raise PydanticCustomError(
                "until",
                "a capture needs a cap: until.duration or until.bytes",
                {"hint": "debug output can run forever; add e.g. duration: 2h"},
            )
        return self


class Rotate(_Model):
    """Capture files rotate when they reach a size or an age."""

    size: Size = Field(default=64 * 1024**2, description="Rotate at this size (default 64MiB)")
    interval: PositiveDuration = Field(default=900.0, description="Rotate after this long (default 15m)")


class Trigger(_Model):
    """When a captured line matches, run show commands (debounced, at most max_runs times)."""

    match: Regex
    run: list[Command] = Field(min_length=1, description="Commands to run; their output becomes step files")
    debounce: Duration = Field(default=30.0, description="Ignore further matches for this long after a run")
    max_runs: int = Field(default=3, ge=1, le=10_000)
    then: Literal["continue", "stop"] = "continue"

    @field_validator("run")
    @classmethod
    def _one_line(cls, value: list[str]) -> list[str]:
        return [_no_newline(v) for v in value]


class Threshold(_Model):
    """A number taken from the pre-check output by a regex group, compared with max."""

    regex: Regex = Field(description="Regex with one group that captures a number, e.g. 'five seconds: (\\d+)%'")
    max: float

    @field_validator("regex")
    @classmethod
    def _has_group(cls, value: str) -> str:
        if re.compile(value).groups < 1:
            raise PydanticCustomError(
                "regex",
                "threshold.regex needs a group capturing the number",
                {"hint": "e.g. 'CPU utilization.*?(\\d+)%'"},
            )
        return value


class Precheck(_Model):
    """A show command run before the capture starts; the capture is not started when the check fails."""

    command: Command
    fail_if_match: Regex | None = None
    threshold: Threshold | None = None

    @field_validator("command")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _no_newline(value)

    @model_validator(mode="after")
    def _one_check(self) -> Precheck:
        if (self.fail_if_match is None) == (self.threshold is None):
            raise PydanticCustomError(
                "precheck", "precheck needs exactly one of fail_if_match or threshold", {"hint": "pick one check"}
            )
        return self


class RateGuard(_Model):
    """Stop the capture at once when the stream stays above max_bytes_per_s for `for`."""

    max_bytes_per_s: Size = Field(description="e.g. 200KB")
    for_: PositiveDuration = Field(
        default=10.0, alias="for", description="How long the rate must stay above (default 10s)"
    )


class CaptureStep(_Model):
    """Start debug/monitor output, keep everything until a stop condition, always run the stop commands."""

    capture: str = Field(description="Capture name; output goes to captures/<name>/")
    start: list[Command] = Field(min_length=1, description="e.g. terminal monitor, debug ip ospf adj")
    stop: list[Command] = Field(description="Always run at the end (and by cleanup), e.g. undebug all")
    until: Until
    rotate: Rotate = Rotate()
    on_match: list[Trigger] = []
    keepalive: PositiveDuration | None = Field(
        default=60.0, description="Empty line while quiet, against exec-timeout; off"
    )
    precheck: Precheck | None = None
    rate_guard: RateGuard | None = None
    slow_line: Literal["auto", "off", "buffer"] = Field(
        default="auto", description="auto: log-buffer polling on serial/modem lines; buffer: always; off: never"
    )
    allow_changes: bool = False
    tags: list[str] = []

    @field_validator("capture")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$", value):
            raise PydanticCustomError(
                "capture_name",
                "capture name {value} must be letters, digits, '.', '_' or '-' (it names a directory)",
                {"value": repr(value), "hint": "e.g. capture: ospf-adj"},
            )
        return value

    @field_validator("start", "stop")
    @classmethod
    def _one_line(cls, value: list[str]) -> list[str]:
        return [_no_newline(v) for v in value]

    @field_validator("keepalive", mode="before")
    @classmethod
    def _off(cls, value: Any) -> Any:
        if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "none", "no")):
            return None
        return value

    @property
    def kind(self) -> str:
        return "capture"

    @property
    def name(self) -> str:
        return self.capture

    @property
    def label(self) -> str:
        return f"capture {self.capture}"


_TAGS: dict[str, type[BaseModel]] = {"show-step": ShowStep, "capture-step": CaptureStep}


def _step_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "show-step"
    if isinstance(value, dict):
        has_command, has_capture = "command" in value, "capture" in value
        if has_command and not has_capture:
            return "show-step"
        if has_capture and not has_command:
            return "capture-step"
        return None
    if isinstance(value, ShowStep):
        return "show-step"
    if isinstance(value, CaptureStep):
        return "capture-step"
    return None


Step = Annotated[
    Annotated[ShowStep, Tag("show-step")] | Annotated[CaptureStep, Tag("capture-step")],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of `command:` (a show step) or `capture:` (a capture step)",
    ),
]


class Playbook(_Model):
    """A named list of steps for one platform, with cleanup that always runs."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        title="collector playbook",
        json_schema_extra={"additionalProperties": False},
    )

    name: str = Field(min_length=1, description="Playbook name (used in run directory names)")
    platform: str = Field(
        description="Platform name: cisco_ios, cisco_xe, cisco_nxos, juniper_junos, arista_eos, linux, frr"
    )
    description: str = ""
    vars: dict[str, str | int | bool] = Field(
        default={}, description="Variables for {{ name }} in commands; --var k=v overrides"
    )
    allow_changes: bool = Field(
        default=False, description="Steps may change the device (the CLI must also pass --allow-changes)"
    )
    defaults: StepDefaults = StepDefaults()
    steps: list[Step] = Field(min_length=1)
    cleanup: list[ShowStep] = Field(default=[], description="Always run at the end, even after errors or a drop")

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        from ..platforms import list_platforms

        known = list_platforms()
        if value not in known:
            close = difflib.get_close_matches(value, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "platform names follow netmiko's"
            raise PydanticCustomError(
                "platform",
                "unknown platform {value}; known platforms: {known}",
                {"value": repr(value), "known": ", ".join(known), "hint": hint},
            )
        return value

    @field_validator("vars")
    @classmethod
    def _var_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not NAME_RE.match(key):
                raise PydanticCustomError(
                    "var_name",
                    "variable name {key} must be letters, digits and _ (not starting with a digit)",
                    {"key": repr(key), "hint": "e.g. vars: {interface: Gi0/1}"},
                )
        return value

    @model_validator(mode="after")
    def _apply_defaults(self) -> Playbook:
        names: set[str] = set()
        for step in self.steps:
            if isinstance(step, CaptureStep):
                if step.capture in names:
                    raise PydanticCustomError(
                        "capture_name", "capture name {name} is used twice", {"name": repr(step.capture)}
                    )
                names.add(step.capture)
        for step in self.show_steps():
            if step.idle_timeout is None:
                step.idle_timeout = self.defaults.idle_timeout
            if step.max_time is None:
                step.max_time = self.defaults.max_time
        return self

    def show_steps(self) -> list[ShowStep]:
        """Every show step of steps and cleanup, in order."""
        return [s for s in self.steps if isinstance(s, ShowStep)] + list(self.cleanup)

    def captures(self) -> list[CaptureStep]:
        return [s for s in self.steps if isinstance(s, CaptureStep)]


def playbook_json_schema() -> dict[str, Any]:
    """JSON Schema of a playbook file, for editor completion (`collector schema`)."""
    schema = Playbook.model_json_schema(mode="validation", by_alias=True)
    shorthand = {"type": "string", "description": "Shorthand for a show step: the command alone"}
    props = schema["properties"]
    props["steps"]["items"] = {"anyOf": [shorthand, *props["steps"]["items"]["oneOf"]]}
    props["cleanup"]["items"] = {"anyOf": [shorthand, props["cleanup"]["items"]]}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema.setdefault("title", "collector playbook")
    return schema


STEP_TAGS = _TAGS
