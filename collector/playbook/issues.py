"""Problems found in a playbook file: `PlaybookIssue` (file:line:col, message, hint) and `PlaybookInvalid`.

Also how a key path is named in messages ("step 2, until.duration") and how a YAML syntax error reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import PlaybookError

if TYPE_CHECKING:
    from ruamel.yaml.error import YAMLError

Loc = tuple[str | int, ...]
SUBSTITUTED_SECTIONS = ("steps", "cleanup")


@dataclass(frozen=True)
class PlaybookIssue:
    """One problem in a playbook file, with its position (1-based line and column)."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def format(self) -> str:
        """The issue with its hint, on one line."""
        return f"{self} (hint: {self.hint})" if self.hint else str(self)


class PlaybookInvalid(PlaybookError):
    """A playbook that does not validate; `.issues` lists every problem found (the message names the first)."""

    def __init__(self, issues: list[PlaybookIssue]) -> None:
        first = issues[0]
        more = f" (and {len(issues) - 1} more; see `collector validate`)" if len(issues) > 1 else ""
        super().__init__(f"{first}{more}", hint=first.hint or None)
        self.issues = issues


def where(loc: Loc) -> str:
    """A key path as a user reads it: `step 2, until.duration`."""
    rest: Loc = loc
    head = ""
    if len(loc) >= 2 and loc[0] in SUBSTITUTED_SECTIONS and isinstance(loc[1], int):
        head = f"{'step' if loc[0] == 'steps' else 'cleanup step'} {loc[1] + 1}"
        rest = loc[2:]
    dotted = ""
    for part in rest:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    if head and dotted:
        return f"{head}, {dotted}"
    return head or dotted or "playbook"


def yaml_issue(file: str, exc: YAMLError) -> PlaybookIssue:
    """A parse error as an issue at the line the parser stopped, with a hint for the usual causes."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    message = f"YAML syntax error: {problem}"
    if context:
        message += f" ({context}"
        if context_mark is not None and context_mark.line + 1 != line:
            message += f" started at line {context_mark.line + 1}"
        message += ")"
    hint = "check indentation, quotes and brackets; quote commands that contain ': ' or start with special characters"
    if "duplicate key" in problem:
        hint = "each key may appear once per mapping"
    elif "mapping values are not allowed" in problem:
        hint = "quote text that contains ': ' or ends with ':', e.g. command: 'dir flash:'"
    return PlaybookIssue(file, line, col, message, hint)



__all__ = ["Loc", "PlaybookInvalid", "PlaybookIssue", "SUBSTITUTED_SECTIONS", "where", "yaml_issue"]
