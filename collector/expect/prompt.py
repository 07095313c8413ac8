"""Prompt detection on the last line of a bounded tail: platform pattern, learned prompt, or a unique prompt.

Only the final line is ever examined, so the cost per read is constant whatever the output size.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from .text import last_line, strip_for_match

MAX_PROMPT = 256
_HOSTNAME = re.compile(rb"^[\w.\-@]+")


def random_prompt(prefix: str = "collector") -> str:
    """A prompt text no output will contain by chance: `collector-1f2e3d4c$ `."""
    return f"{prefix}-{secrets.token_hex(4)}$ "


def quoted_split(text: str, split: str = "''") -> str:
    """`text` single-quoted for a POSIX shell, with `split` inside so its echo never shows `text` itself."""
    half = len(text) // 2
    return "'" + text[:half] + split + text[half:] + "'"


@dataclass
class PromptMatch:
    """A prompt found at the end of the output, and where it starts."""

    text: str
    start: int  # offset of the prompt in the buffer that was examined


class PromptMatcher:
    """Knows what a prompt looks like for a platform and, once learned, for this device.

    With `make_unique(text)` (shells, where the session sets its own random prompt) only that exact text is a
    prompt, and it ends a command even when output without a final newline precedes it on the same line.
    """

    def __init__(self, pattern: str, paging_patterns: list[str] | None = None, host_pattern: str | None = None) -> None:
        self.pattern = re.compile(pattern.encode())
        #: a regex with a group `host`: the stable part of a prompt (EXOS counts commands in its prompt)
        self.host_pattern = re.compile(host_pattern.encode()) if host_pattern else None
        pats = [p for p in (paging_patterns or []) if p]
        self.paging = re.compile(b"(?:" + b"|".join(p.encode() for p in pats) + b")") if pats else None
        self.learned: bytes | None = None
        self.hostname: bytes | None = None
        self.unique: bytes | None = None

    def learn(self, prompt: bytes) -> None:
        self.learned = prompt
        self.hostname = self._host(prompt)

    def _host(self, prompt: bytes) -> bytes | None:
        if self.host_pattern is not None:
            m = self.host_pattern.search(prompt)
            return m.group("host") if m else None
        m = _HOSTNAME.match(prompt)
        return m.group(0) if m else None

    def make_unique(self, prompt: bytes) -> None:
        """From now on only `prompt` (a per-session random text) is a prompt."""
        self.unique = prompt.rstrip(b" \t")
        self.learn(self.unique)

    def is_prompt(self, line: bytes) -> bool:
        line = strip_for_match(line)
        if not line or len(line) > MAX_PROMPT:
            return False
        if self.unique is not None:
            return line == self.unique
        if not self.pattern.fullmatch(line) and line != (self.learned or b"\x00"):
            return False
        if not self.hostname:
            return True
        if self.host_pattern is not None:  # the host part must be the same; the rest may change
            return self._host(line) == self.hostname
        return line.startswith(self.hostname)

    def find_at_end(self, buf: bytes | bytearray) -> PromptMatch | None:
        """A prompt occupying the end of the last line of `buf` (the whole line unless the prompt is unique)."""
        tail_from = max(0, len(buf) - MAX_PROMPT - 2)
        nl = buf.rfind(b"\n", tail_from)
        if nl == -1 and tail_from > 0 and self.unique is None:
            return None
        if self.unique is not None:
            line_start = max(nl + 1, len(buf) - 2 * MAX_PROMPT)
            return self._unique_at_end(buf, bytes(buf[line_start:]), line_start)
        line = bytes(buf[nl + 1 :])
        if self.is_prompt(line):
            return PromptMatch(text=strip_for_match(line).decode("utf-8", "replace"), start=nl + 1)
        return None

    def _unique_at_end(self, buf: bytes | bytearray, line: bytes, line_start: int) -> PromptMatch | None:
        assert self.unique is not None
        screen = strip_for_match(line)
        if not screen.endswith(self.unique):
            return None
        at = buf.rfind(self.unique, line_start)
        if at == -1:  # the prompt's own bytes were split by an escape sequence: the line is the prompt
            at = line_start
        return PromptMatch(text=self.unique.decode("utf-8", "replace"), start=at)

    def paging_at_end(self, buf: bytes | bytearray) -> bool:
        if self.paging is None:
            return False
        line = strip_for_match(last_line(buf[-MAX_PROMPT:]))
        return bool(line) and self.paging.search(line) is not None
