"""Rich progress for a run (bytes, rate, elapsed per step; line rate and ETA on slow lines) and the summary table.

Implements RunObserver; quiet/JSON modes use the null observer instead.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from ..runner.linestats import LineProgress
from ..runner.observer import RunObserver
from ..store.records import StepRecord


class RichObserver(RunObserver):
    def __init__(self, console: Console, expected: dict[str, int] | None = None) -> None:
        self.console = console
        self.expected = expected or {}
        self.progress = Progress(
            TextColumn("[bold]{task.fields[index]:>3}[/] {task.description}"),
            BarColumn(bar_width=20),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None
        self.started = False
        self.link = ""

    def run_started(self, run_dir: str, target: str, steps: int) -> None:
        self.console.print(f"[bold]run[/] {run_dir}  [dim]target[/] {target}  [dim]steps[/] {steps}")
        self.progress.start()
        self.started = True

    def connected(self, info: dict[str, Any], line_rate: int | None = None) -> None:
        if line_rate:
            self.link = f" @ {line_rate} bps"
        self.console.print(f"[green]connected[/] {info.get('transport', '')}{self.link}")

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        total = expected_bytes or self.expected.get(name)
        self.task = self.progress.add_task(name[:50], total=total, index=index)
        self._t0 = time.monotonic()

    def bytes_read(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)

    def step_finished(self, index: int, name: str, status: str, nbytes: int, duration: float) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        colour = {"ok": "green", "skipped": "yellow"}.get(status, "red")
        self.console.print(f"  {index:>3} [{colour}]{status:<8}[/] {nbytes:>12,} B {duration:8.2f}s  {name}")

    def line_progress(self, progress: LineProgress) -> None:
        """A step fetched by pieces: kept bytes, measured rate, drops so far, ETA from rate and drop interval."""
        if self.task is None:
            return
        p = progress
        eta = "?" if p.eta is None else f"{int(p.eta) // 60}m{int(p.eta) % 60:02d}s"
        rate = "?" if p.rate is None else f"{p.rate:,.0f} B/s"
        pieces = f"{p.pieces_done}/{p.pieces_total}" if p.pieces_total else f"{p.pieces_done}"
        text = f"{p.name[:32]} · pieces {pieces} · {rate} · drops {p.drops} · ETA {eta}"
        self.progress.update(self.task, description=escape(text), total=p.expected, completed=p.fetched)

    def notice(self, message: str) -> None:
        self.console.print(f"[yellow]![/] {message}")

    def run_finished(self, status: str) -> None:
        if self.started:
            self.progress.stop()


def summary_table(records: list[StepRecord], title: str) -> Table:
    table = Table(title=title)
    for col, just in (("#", "right"), ("step", "left"), ("status", "left"), ("bytes", "right"),
                      ("duration", "right"), ("attempts", "right"), ("note", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in records:
        note = r.error_marker or ("timed out" if r.timed_out else "")
        colour = "green" if r.status == "ok" else ("yellow" if r.status == "skipped" else "red")
        table.add_row(
            str(r.step), r.name[:48], f"[{colour}]{r.status}[/]", f"{r.bytes:,}",
            f"{r.duration:.2f}s" if r.duration is not None else "-", str(len(r.attempts)), note,
        )
    return table
