"""The playbook schema's building blocks: strict base model, durations, sizes, regexes, one-line commands.

Durations and sizes are written as text in YAML ("120s", "64MiB") and exposed as seconds (float) / bytes (int).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..units import DURATION_HELP, DURATION_PATTERN, SIZE_HELP, SIZE_PATTERN, parse_duration, parse_size


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
ParseChoice = Literal["auto", "textfsm", "ttp", "genie", "none"]  # collector.parse.outcome.ParseChoice
FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_/:.-]+)*$")
DEFAULT_PARSE_MAX = 64 * 1024**2


def one_line(value: str, what: str = "command") -> str:
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


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
