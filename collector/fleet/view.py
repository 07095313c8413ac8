"""One view of a running fleet: a live rich panel on a terminal (done / running / failed, bytes, rate, the
slowest device, the running devices), plain lines otherwise (a line per finished device, a summary now and then).

Device names, steps and errors are data: printed as rich Text, never parsed as markup.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..ui.console import clean, safe
from .job import JobResult
from .progress import ACTIVE, Board

if TYPE_CHECKING:
    from rich.console import Console

ROWS = 12
PLAIN_EVERY = 30.0


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def summary(board: Board) -> str:
    c = board.counts()
    elapsed = max(1e-6, time.monotonic() - board.started)
    total = board.total_bytes()
    line = (f"{c['done']} done, {c['running']} running, {c['failed']} failed, {c['queued']} queued of "
            f"{len(board.devices)} | {_size(total)} at {_size(total / elapsed)}/s | {elapsed:.0f}s")
    slow = board.slowest()
    if slow is not None and slow.state in ACTIVE:
        line += f" | slowest: {clean(slow.name, keep_newlines=False)} ({slow.elapsed():.0f}s"
        line += f", {clean(slow.step, keep_newlines=False)[:40]})" if slow.step else ")"
    return line


class FleetView:
    """`tick()` redraws; `result()` reports a finished device; `close()` ends the live panel."""

    def __init__(self, board: Board, console: Console, title: str, live: bool | None = None) -> None:
        self.board = board
        self.console = console
        self.title = title
        self.live_on = console.is_terminal if live is None else live
        self._live: Any = None
        self._last_plain = time.monotonic()
        self.finished = 0

    def start(self) -> None:
        if self.live_on:
            from rich.live import Live

            self._live = Live(self._render(), console=self.console, refresh_per_second=4, transient=True)
            self._live.start()
        else:
            self.console.print(safe(f"fleet {self.title}: {len(self.board.devices)} devices"))

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        for col in ("device", "state", "step", "bytes", "time"):
            table.add_column(col, no_wrap=True, justify="right" if col in ("bytes", "time") else "left")
        active = sorted((d for d in self.board.devices.values() if d.state in ACTIVE),
                        key=lambda d: -d.elapsed())[:ROWS]
        for d in active:
            table.add_row(safe(clean(d.name, keep_newlines=False)[:32]), d.state,
                          safe(clean(d.step, keep_newlines=False)[:40]), _size(d.bytes), f"{d.elapsed():.0f}s")
        return Group(safe(f"fleet {self.title}", "bold"), safe(summary(self.board)), table)

    def tick(self) -> None:
        if self._live is not None:
            self._live.update(self._render())
        elif time.monotonic() - self._last_plain >= PLAIN_EVERY:
            self._last_plain = time.monotonic()
            self.console.print(safe(summary(self.board)))

    def result(self, r: JobResult) -> None:
        self.finished += 1
        line = (f"[{self.finished}/{len(self.board.devices)}] {r.device} {r.status} "
                f"{r.steps_ok}/{r.steps} steps {_size(r.bytes)} {r.duration:.1f}s")
        style = "green" if r.status == "ok" else "yellow" if r.ok else "red"
        text = safe(clean(line, keep_newlines=False), style)
        if r.error:
            text.append(f"  {clean(r.error, keep_newlines=False)[:160]}")
        (self._live.console if self._live is not None else self.console).print(text)

    def notice(self, message: str) -> None:
        (self._live.console if self._live is not None else self.console).print(safe(message, "yellow"))

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        self.console.print(safe(summary(self.board)))
