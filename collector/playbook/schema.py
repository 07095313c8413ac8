"""The playbook schema (pydantic v2): show steps, capture steps, cleanup, defaults, variables.

Durations and sizes are written as text in YAML ("120s", "64MiB") and exposed as seconds (float) / bytes (int).
Building blocks live in schema_types.py, the capture step in capture_schema.py; every name is importable from here.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .capture_schema import (
    CaptureStep,
    ParsedField,
    Precheck,
    RateGuard,
    Rotate,
    Threshold,
    Trigger,
    Until,
    describe_field,
)
from .schema_types import (
    DEFAULT_PARSE_MAX,
    Command,
    Duration,
    ParseChoice,
    PositiveDuration,
    Regex,
    Size,
)
from .schema_types import StrictModel as _Model
from .schema_types import one_line as _no_newline
from .variables import NAME_RE


class StepDefaults(_Model):
    """Defaults applied to every show step that does not set its own value."""

    idle_timeout: PositiveDuration = Field(
        default=60.0, description="No byte for this long = the step stalled (default 60s)"
    )
    max_time: PositiveDuration | None = Field(default=None, description="Optional overall cap per step")
    parse: ParseChoice = Field(default="auto", description="Parser for every step that does not choose its own")
    parse_max_size: Size = Field(
        default=DEFAULT_PARSE_MAX, description="Outputs above this are not parsed (a note says so; default 64MiB)"
    )


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
    parse: ParseChoice | None = Field(
        default=None, description="auto (TextFSM, then TTP, then Genie), textfsm, ttp, genie or none; after the run"
    )
    parse_max_size: Size | None = Field(default=None, description="Not parsed above this size (default 64MiB)")
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
            if step.parse is None:
                step.parse = self.defaults.parse
            if step.parse_max_size is None:
                step.parse_max_size = self.defaults.parse_max_size
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

__all__ = ["CaptureStep", "Command", "DEFAULT_PARSE_MAX", "Duration", "ParseChoice", "ParsedField", "Playbook",
           "PositiveDuration", "Precheck", "RateGuard", "Regex", "Rotate", "STEP_TAGS", "ShowStep", "Size",
           "Step", "StepDefaults", "Threshold", "Trigger", "Until", "describe_field", "playbook_json_schema"]
