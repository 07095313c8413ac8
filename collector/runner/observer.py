"""What the runner tells the outside world while it works (the CLI draws progress from it).

A protocol with no-op defaults, so tests and scheduled runs can ignore it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .linestats import LineProgress


class RunObserver:
    """Override what you need; every method is optional."""

    def run_started(self, run_dir: str, target: str, steps: int) -> None: ...

    def connected(self, info: dict[str, Any], line_rate: int | None = None) -> None: ...

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None: ...

    def bytes_read(self, n: int) -> None: ...

    def step_finished(self, index: int, name: str, status: str, nbytes: int, duration: float) -> None: ...

    def line_progress(self, progress: LineProgress) -> None:
        """A step fetched by pieces: bytes kept, rate, drops so far and an ETA (after each piece)."""

    def notice(self, message: str) -> None: ...

    def run_finished(self, status: str) -> None: ...
