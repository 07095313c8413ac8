"""Shared building blocks of the platform data models: the frozen strict base model and a checked regex type.

Kept apart so the model modules (programs, debug, the Platform itself) import them without a cycle.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from None
    return value


Regex = Annotated[str, AfterValidator(_check_regex)]


class Data(BaseModel):
    """Base of every platform model: unknown keys are errors, loaded values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


__all__ = ["Data", "Regex"]
