"""Device settings collector must change to work (FortiOS console paging) and puts back when the run ends.

A setting is data: how to read it, when it needs the change, the commands that change it and that restore it.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ._base import Data, Regex


class DeviceSetting(Data):
    """One device-wide setting the session changes after login (e.g. `config system console / set output
    standard / end` to stop paging). The runner journals the change before it is made and restores it at the end,
    after a drop and on resume, so a run never leaves the device changed."""

    name: str = Field(description="a short name for messages and the journal, e.g. console-output")
    query: str | None = Field(
        default=None, description="prints the current value; without it the change is always made (and undone)"
    )
    changed_if: Regex | None = Field(
        default=None, description="regex (multi-line) on the query's output: the setting needs the change"
    )
    apply: list[str] = Field(min_length=1, description="the commands that change it, in order")
    restore: list[str] = Field(min_length=1, description="the commands that put the original value back")

    @model_validator(mode="after")
    def _query_and_condition(self) -> DeviceSetting:
        if (self.query is None) != (self.changed_if is None):
            raise ValueError("give both query and changed_if (or neither: the change is then always made)")
        return self


__all__ = ["DeviceSetting"]
