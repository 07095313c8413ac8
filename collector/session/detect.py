"""`platform: auto`: which platform is this, told after login from the prompt's shape, then `show version` & co.

Like netmiko's SSHDetect, but every clue is platform data (`detect:` in each platform file) and the answer says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import DeviceError
from ..platforms import Platform, device_platforms, load_platform
from .command import CommandResult

DETECT_IDLE = 15.0
EVIDENCE = 400  # characters of a command's output kept as evidence


@dataclass
class Detection:
    """What was found and why: the platform, the reason, what was tried (each command and its verdict)."""

    platform: str
    reason: str
    prompt: str
    candidates: list[str] = field(default_factory=list)
    tried: list[dict[str, str]] = field(default_factory=list)


def candidates_for(prompt: str, platforms: list[Platform]) -> list[Platform]:
    """Platforms whose prompt shape fits this prompt (the others are never sent a command)."""
    return [p for p in platforms if p.detect is not None and re.fullmatch(p.prompt_pattern, prompt.rstrip(), re.M)]


def host_pattern_for(prompt: str, platforms: list[Platform] | None = None) -> str | None:
    """While detecting: the `prompt_host` of a platform whose prompt shape fits (EXOS counts commands in its
    prompt, `X440.1 #` then `X440.2 #`: the host part without the counter is what identifies the next prompt)."""
    known = platforms if platforms is not None else [load_platform(n) for n in device_platforms()]
    for p in candidates_for(prompt, known):
        if p.prompt_host and re.search(p.prompt_host, prompt):
            return p.prompt_host
    return None


def _by_prompt(prompt: str, fits: list[Platform]) -> Platform | None:
    decided = [p for p in fits if p.detect and p.detect.prompt and re.search(p.detect.prompt, prompt, re.M)]
    if not decided:
        return None
    return max(decided, key=lambda p: p.detect.priority if p.detect else 0)


def _commands(fits: list[Platform]) -> list[str]:
    """The distinct detection commands, the one most likely to decide first (highest priority, most platforms)."""
    def weight(command: str) -> tuple[int, int]:
        users = [p for p in fits if p.detect and p.detect.command == command]
        return (max(p.detect.priority for p in users if p.detect), len(users))

    commands = list(dict.fromkeys(p.detect.command for p in fits if p.detect))
    return sorted(commands, key=weight, reverse=True)


def detect(prompt: str, run: Callable[[str], tuple[CommandResult, bytes]],
           platforms: list[Platform] | None = None) -> Detection:
    """Tell the platform; `run(command)` sends one command and gives its result and output. DeviceError if none fits."""
    known = platforms if platforms is not None else [load_platform(n) for n in device_platforms()]
    fits = candidates_for(prompt, known)
    found = Detection(platform="", reason="", prompt=prompt, candidates=[p.name for p in fits])
    by_prompt = _by_prompt(prompt, fits)
    if by_prompt is not None:
        found.platform, found.reason = by_prompt.name, f"the prompt {prompt!r} has {by_prompt.name}'s shape"
        return found
    for command in _commands(fits):
        result, output = run(command)
        text = output.decode("utf-8", "replace")
        hits = [(p, pat) for p in fits if p.detect and p.detect.command == command
                for pat in p.detect.patterns if re.search(pat, text, re.M)]
        found.tried.append({"command": command, "output_head": text[:EVIDENCE],
                            "matched": ", ".join(sorted({p.name for p, _ in hits})) or "none",
                            "timed_out": str(result.timed_out).lower()})
        if hits:
            best, pattern = max(hits, key=lambda h: h[0].detect.priority if h[0].detect else 0)
            found.platform = best.name
            found.reason = f"`{command}` printed text matching {pattern!r} (priority "
            found.reason += f"{best.detect.priority if best.detect else 0})"
            return found
    tried = ", ".join(f"`{t['command']}`" for t in found.tried) or "no command (no platform has this prompt shape)"
    raise DeviceError(
        f"could not detect the platform at prompt {prompt!r} (tried {tried})",
        hint="give the platform with --platform NAME (`collector platforms` lists them)",
    )


__all__ = ["Detection", "candidates_for", "detect"]
