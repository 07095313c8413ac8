"""The capture step's schema: until-conditions, rotation, triggers, pre-checks (regex or parsed field), rate guard.

Split from schema.py; `collector.playbook.schema` re-exports every name.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .schema_types import (
    FIELD_RE,
    Command,
    Duration,
    ParseChoice,
    PositiveDuration,
    Regex,
    Size,
)
from .schema_types import StrictModel as _Model
from .schema_types import one_line as _no_newline


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


class ParsedField(_Model):
    """A number read from a command's parsed output (`{parsed: show processes cpu, field: cpu_usage_5_sec, max: 60}`).

    It holds when a record (of those matching `where`) has the field above `max` or below `min`.
    """

    parsed: Command | None = Field(default=None, description="The command whose parsed output is read")
    field: str | None = Field(default=None, description="A field of its records, e.g. cpu_usage_5_sec (any case)")
    max: float | None = Field(default=None, description="Above this = over the threshold")
    min: float | None = Field(default=None, description="Below this = over the threshold")
    where: dict[str, Regex] = Field(default={}, description="Only records whose fields match these regexes")
    parser: ParseChoice = Field(default="auto", description="Which parser reads it (auto: TextFSM, TTP, Genie)")

    def _check_parsed(self, what: str) -> None:
        if self.parsed is None:
            if self.field is not None or self.max is not None or self.min is not None or self.where:
                raise PydanticCustomError(
                    what, "field, max, min and where need `parsed:` (the command to read them from)",
                    {"hint": "e.g. {parsed: show processes cpu, field: cpu_usage_5_sec, max: 60}"})
            return
        _no_newline(self.parsed, "parsed command")
        if self.parser == "none":
            raise PydanticCustomError(what, "a parsed check needs a parser (not parser: none)", {})
        if self.field is None or not FIELD_RE.match(self.field):
            raise PydanticCustomError(
                what, "`parsed:` needs `field:`, a field name of the parsed records (got {value})",
                {"value": repr(self.field), "hint": "e.g. field: cpu_usage_5_sec (see `collector parse` output)"})
        if self.max is None and self.min is None:
            raise PydanticCustomError(what, "`parsed:` needs `max:` or `min:`", {"hint": "e.g. max: 60"})

    @property
    def has_parsed(self) -> bool:
        return self.parsed is not None


class Trigger(ParsedField):
    """Run show commands when a captured line matches `match`, or when a polled parsed field crosses a threshold.

    Debounced, at most max_runs times. A `parsed:` trigger runs its command every `every` while the capture runs.
    """

    match: Regex | None = None
    run: list[Command] = Field(min_length=1, description="Commands to run; their output becomes step files")
    debounce: Duration = Field(default=30.0, description="Ignore further matches for this long after a run")
    max_runs: int = Field(default=3, ge=1, le=10_000)
    then: Literal["continue", "stop"] = "continue"
    every: PositiveDuration = Field(default=30.0, description="parsed triggers: how often the command is polled")

    @field_validator("run")
    @classmethod
    def _one_line(cls, value: list[str]) -> list[str]:
        return [_no_newline(v) for v in value]

    @model_validator(mode="after")
    def _one_condition(self) -> Trigger:
        self._check_parsed("trigger")
        if (self.match is None) == (self.parsed is None):
            raise PydanticCustomError(
                "trigger", "a trigger needs exactly one of `match:` (a regex on captured lines) or `parsed:`",
                {"hint": "e.g. match: 'ADJCHG' or {parsed: show processes cpu, field: cpu_usage_5_sec, max: 80}"})
        return self

    @property
    def condition(self) -> str:
        """What fires it, for records and messages."""
        if self.match is not None:
            return self.match
        return describe_field(self)


def describe_field(check: ParsedField) -> str:
    bounds = [f"{check.field} > {check.max:g}" if check.max is not None else "",
              f"{check.field} < {check.min:g}" if check.min is not None else ""]
    return f"{' or '.join(b for b in bounds if b)} in `{check.parsed}`"


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


class Precheck(ParsedField):
    """A show command run before the capture starts; the capture is not started when the check fails.

    One check: `fail_if_match` (a regex), `threshold` (a regex group and max) or a parsed field (`parsed:`).
    """

    command: Command | None = Field(default=None, description="The command (a parsed check names it in `parsed:`)")
    fail_if_match: Regex | None = None
    threshold: Threshold | None = None

    @field_validator("command")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else _no_newline(value)

    @model_validator(mode="after")
    def _one_check(self) -> Precheck:
        self._check_parsed("precheck")
        if sum(x is not None for x in (self.fail_if_match, self.threshold, self.parsed)) != 1:
            raise PydanticCustomError(
                "precheck", "precheck needs exactly one of fail_if_match, threshold or parsed",
                {"hint": "pick one check"})
        if self.parsed is not None:
            if self.command is not None and " ".join(self.command.split()) != " ".join(self.parsed.split()):
                raise PydanticCustomError(
                    "precheck", "command and parsed name different commands", {"hint": "give only parsed:"})
            self.command = self.parsed
        elif self.command is None:
            raise PydanticCustomError("precheck", "precheck needs command:", {"hint": "e.g. show processes cpu"})
        return self

    @property
    def sent(self) -> str:
        """The command the pre-check sends."""
        assert self.command is not None  # set by the validator
        return self.command


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
