"""Prompt detection on the last line of a bounded tail: platform pattern plus the learned hostname.

Only the final line is ever examined, so the cost per read is constant whatever the output size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .normalize import last_line, strip_for_match

MAX_PROMPT = 256
_HOSTNAME = re.compile(rb"^[\w.\-@]+")


@dataclass
class PromptMatch:
    text: str
    start: int  # offset of the prompt line in the buffer that was examined


class PromptMatcher:
    """Knows what a prompt looks like for a platform and, once learned, for this device."""

    def __init__(self, pattern: str, paging_patterns: list[str] | None = None) -> None:
        self.pattern = re.compile(pattern.encode())
        pats = [p for p in (paging_patterns or []) if p]
        self.paging = re.compile(b"(?:" + b"|".join(p.encode() for p in pats) + b")") if pats else None
        self.learned: bytes | None = None
        self.hostname: bytes | None = None

    def learn(self, prompt: bytes) -> None:
        self.learned = prompt
        m = _HOSTNAME.match(prompt)
        self.hostname = m.group(0) if m else None

    def is_prompt(self, line: bytes) -> bool:
        line = strip_for_match(line)
        if not line or len(line) > MAX_PROMPT:
            return False
        if not self.pattern.fullmatch(line) and line != (self.learned or b"\x00"):
            return False
        return not self.hostname or line.startswith(self.hostname)

    def find_at_end(self, buf: bytes | bytearray) -> PromptMatch | None:
        """A prompt occupying the last line of `buf`, else None."""
        tail_from = max(0, len(buf) - MAX_PROMPT - 2)
        nl = buf.rfind(b"\n", tail_from)
        if nl == -1 and tail_from > 0:
            return None
        line = bytes(buf[nl + 1 :])
        if self.is_prompt(line):
            return PromptMatch(text=strip_for_match(line).decode("utf-8", "replace"), start=nl + 1)
        return None

    def paging_at_end(self, buf: bytes | bytearray) -> bool:
        if self.paging is None:
            return False
        line = strip_for_match(last_line(buf[-MAX_PROMPT:]))
        return bool(line) and self.paging.search(line) is not None
