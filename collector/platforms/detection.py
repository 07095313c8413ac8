"""How `platform: auto` recognises a platform after login: a prompt shape, then a command and its output.

Pure data (the `detect:` section of a platform file); collector/session/detect.py runs it.
"""

from __future__ import annotations

from pydantic import Field

from ._base import Data, Regex


class DetectSpec(Data):
    """What tells this platform apart from the others (like netmiko's SSHDetect table)."""

    prompt: Regex | None = Field(
        default=None, description="a prompt shape only this platform has: it decides without sending a command"
    )
    command: str = Field(default="show version", description="sent when the prompt alone does not decide")
    patterns: list[Regex] = Field(default=[], description="regexes (multi-line): any match in the output names it")
    priority: int = Field(
        default=50, ge=0, le=99, description="when several platforms match, the highest wins (IOS-XE over IOS)"
    )


__all__ = ["DetectSpec"]
