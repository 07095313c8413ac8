"""The read-only guard for shell platforms (linux): deny by default.

A line is allowed only when it is a plain pipeline (no shell syntax beyond `|`) whose every stage is allowed.
"""

from __future__ import annotations

from ..platforms import Platform
from .guard_programs import check_stage
from .shell_lex import ShellSyntax, split_pipeline
from .verdict import GuardVerdict, NestedCheck, allowed, refused


def check_shell(command: str, platform: Platform, nested: NestedCheck) -> GuardVerdict:
    """Verdict for one shell line: each stage must be a listed program with only its allowed options."""
    try:
        stages = split_pipeline(command)
    except ShellSyntax as exc:
        return refused("shell:syntax", str(exc))
    for i, words in enumerate(stages):
        verdict = check_stage(words, platform, piped=i < len(stages) - 1, nested=nested)
        if not verdict.allowed:
            return verdict
    names = " | ".join(words[0].text for words in stages)
    return allowed("shell:pipeline", f"{names}: read-only programs with read-only options")


__all__ = ["check_shell"]
