"""What parsing one output gave: the parser and template used and how many records, or why it did not parse.

Plain data shared by the engine, the run-level index, the bundle manifest and the capture checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

ParseChoice = Literal["auto", "textfsm", "ttp", "genie", "none"]
CHOICES: tuple[str, ...] = get_args(ParseChoice)
PARSERS: tuple[str, ...] = ("textfsm", "ttp", "genie")


@dataclass
class ParseOutcome:
    """One output's parse: `parser` and `records` when it parsed, else `reason` (a sentence, never a traceback)."""

    choice: str = "auto"
    parser: str | None = None
    template: str | None = None
    records: int | None = None
    reason: str | None = None
    command: str = ""
    resolved: str | None = None  # the command as the parser looked it up (abbreviations written out)
    platform: str | None = None
    source: str | None = None  # steps/NNN-<slug>.txt (run-relative)
    file: str | None = None  # parsed/NNN-<slug>.json (run-relative) when it parsed
    bytes: int | None = None
    max_bytes: int | None = None  # the limit it was parsed under (None: no limit)
    seconds: float | None = None
    notes: list[str] = field(default_factory=list)  # parsers tried before the one that answered

    @property
    def ok(self) -> bool:
        return self.parser is not None and self.reason is None

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "notes": list(self.notes)}  # flat fields: no deep copy needed (asdict: 60 us each)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParseOutcome:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class ParseFailed(Exception):
    """A parser was tried and gave up; the message is the recorded reason."""


class NoParser(Exception):
    """This parser has nothing for the platform and command (or is not installed); the message says which."""


__all__ = ["CHOICES", "PARSERS", "NoParser", "ParseChoice", "ParseFailed", "ParseOutcome"]
