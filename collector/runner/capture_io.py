"""Small pieces the capture engine reads command output with: the log-buffer diff and an in-memory sink.

Pure helpers; the stream itself is read only through the session.
"""

from __future__ import annotations

from ..store.stepfile import StepFile


def new_log_lines(marker: list[bytes], lines: list[bytes]) -> tuple[list[bytes], bool]:
    """Buffer-poll mode: the lines of a `show logging` output that follow the last-seen marker.

    `marker` is the last few lines of the previous poll. Returns (new lines, marker found). When the marker is
    gone (the buffer wrapped or was cleared) every line is new and found is False.
    """
    if not marker:
        return list(lines), True
    k = len(marker)
    for end in range(len(lines), k - 1, -1):
        if lines[end - k : end] == marker:
            return lines[end:], True
    return list(lines), False


class Collect:
    """A sink that keeps a command's output in memory (pre-check and poll outputs are small)."""

    def __init__(self, limit: int = 16 << 20, tee: StepFile | None = None) -> None:
        self.data = bytearray()
        self.limit = limit
        self.tee = tee

    def write(self, data: bytes) -> None:
        if self.tee is not None:
            self.tee.write(data)
        if len(self.data) < self.limit:
            self.data += data[: self.limit - len(self.data)]
