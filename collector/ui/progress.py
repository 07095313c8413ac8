"""Rich progress for a run (bytes, rate, elapsed per step; line rate and ETA on slow lines) and the summary.

Implements RunObserver; every device or playbook string is printed as data (ui.console.safe), never as markup.
A step gets a live bar only once it has run for a while: quick steps cost one printed line each.
A long playbook's summary stays cheap: past SUMMARY_ROWS steps the table lists only what needs attention.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..runner.observer import RunObserver
from ..store.records import StepRecord
from .console import clean, safe
from .deadline import Deadline

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.table import Table

    from ..runner.linestats import LineProgress

SUMMARY_ROWS = 60
REVEAL_AFTER = 0.5  # seconds a step runs before its live progress bar appears
STATUS_STYLE = {"ok": "green", "skipped": "yellow"}


class RichObserver(RunObserver):
    """One line per finished step; a live progress bar only for a step still running after REVEAL_AFTER seconds
    (a 500-step playbook of quick commands pays for 500 plain lines, not 500 redraws of a live display)."""

    def __init__(self, console: Console, expected: dict[str, int] | None = None) -> None:
        self.console = console
        self.expected = expected or {}
        self._progress: Progress | None = None
        self._lock = threading.Lock()
        self._live = False
        self.task: TaskID | None = None
        self._step: tuple[int, str, int | None] | None = None  # index, name, expected bytes
        self._seen = 0  # bytes of the current step before its bar is shown
        self._timer: Deadline[int] = Deadline(REVEAL_AFTER, self._reveal_if_current)
        self.link = ""

    def _bar(self) -> Progress:
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.fields[index]:>3}", style="bold", markup=False),
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=20),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,  # the bar goes when its step ends; the step's line stays
            )
        return self._progress

    def _say(self, *parts: object) -> None:
        if not self._live and not self.console.record and not self.console.is_jupyter:
            self.console.file.write(self._plain_line(parts))  # the common case, about 50x cheaper than print()
            return
        from rich.text import Text

        line = Text()
        for part in parts:
            if isinstance(part, tuple):
                line.append(clean(part[0]), style=part[1])
            else:
                line.append(clean(part))
        self.console.print(line)

    def _plain_line(self, parts: tuple[object, ...]) -> str:
        """The line as the console would print it, styled with the console's own colour system (none when it
        has none: a pipe, NO_COLOR), every piece cleaned of terminal controls."""
        out = []
        for part in parts:
            text, style = (clean(part[0]), part[1]) if isinstance(part, tuple) else (clean(part), None)
            out.append(self._styled(text, style) if style else text)
        return "".join(out) + "\n"

    def _styled(self, text: str, style: str) -> str:
        system = self.console.color_system
        if system is None:
            return text
        from rich.console import COLOR_SYSTEMS
        from rich.style import Style

        return Style.parse(style).render(text, color_system=COLOR_SYSTEMS[system])

    def run_started(self, run_dir: str, target: str, steps: int) -> None:
        self._say(("run ", "bold"), run_dir, ("  target ", "dim"), target, ("  steps ", "dim"), str(steps))

    def connected(self, info: dict[str, Any], line_rate: int | None = None) -> None:
        if line_rate:
            self.link = f" @ {line_rate} bps"
        self._say(("connected ", "green"), str(info.get("transport", "")), self.link)

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None:
        self._hide()
        with self._lock:
            self._step = (index, name, expected_bytes or self.expected.get(name))
            self._seen = 0
        self._timer.arm(index)

    def _reveal_if_current(self, index: int) -> None:
        with self._lock:
            current = self._step is not None and self._step[0] == index
        if current:
            self._reveal()

    def _reveal(self) -> None:
        """The current step is slow: show its live bar (from the timer thread, or at once for a slow line)."""
        with self._lock:
            if self._step is None or self.task is not None:
                return
            index, name, total = self._step
            bar = self._bar()
            if not self._live:
                bar.start()
                self._live = True
            self.task = bar.add_task(clean(name, keep_newlines=False)[:50], total=total, index=index,
                                     completed=self._seen)

    def _hide(self) -> None:
        self._timer.disarm()
        with self._lock:
            self._step = None
            if self.task is not None and self._progress is not None:
                self._progress.remove_task(self.task)
                self.task = None
            if self._live and self._progress is not None:
                self._progress.stop()
                self._live = False

    def bytes_read(self, n: int) -> None:
        if self.task is not None and self._progress is not None:
            self._progress.advance(self.task, n)
        else:
            self._seen += n

    def step_finished(self, index: int, name: str, status: str, nbytes: int, duration: float) -> None:
        self._hide()
        self._say(f"  {index:>3} ", (f"{status:<8}", STATUS_STYLE.get(status, "red")),
                  f" {nbytes:>12,} B {duration:8.2f}s  ", name)

    def line_progress(self, progress: LineProgress) -> None:
        """A step fetched by pieces: kept bytes, measured rate, drops so far, ETA from rate and drop interval."""
        self._reveal()  # a slow line: the bar at once
        if self.task is None or self._progress is None:
            return
        p = progress
        eta = "?" if p.eta is None else f"{int(p.eta) // 60}m{int(p.eta) % 60:02d}s"
        rate = "?" if p.rate is None else f"{p.rate:,.0f} B/s"
        pieces = f"{p.pieces_done}/{p.pieces_total}" if p.pieces_total else f"{p.pieces_done}"
        name = clean(p.name, keep_newlines=False)[:32]
        text = f"{name} · pieces {pieces} · {rate} · drops {p.drops} · ETA {eta}"
        self._progress.update(self.task, description=text, total=p.expected, completed=p.fetched)

    def notice(self, message: str) -> None:
        self._say(("! ", "yellow"), message)

    def run_finished(self, status: str) -> None:
        self._hide()


def _row(r: StepRecord) -> list[Any]:
    note = r.error_marker or ("timed out" if r.timed_out else "")
    nbytes = f"{r.bytes:,}"
    if r.status == "interrupted" and r.kept_bytes:
        nbytes, note = f"{r.kept_bytes:,}", note or "kept as .partial (interrupted)"
    return [str(r.step), safe(clean(r.name, keep_newlines=False)[:48]),
            safe(r.status, STATUS_STYLE.get(r.status, "red")), nbytes,
            f"{r.duration:.2f}s" if r.duration is not None else "-", str(len(r.attempts)), safe(note)]


def summary_table(records: list[StepRecord], title: str) -> Table:
    """One row per step; a long run shows the first rows and every step that needs attention."""
    from rich.table import Table

    table = Table(title=safe(clean(title, keep_newlines=False)))
    for col, just in (("#", "right"), ("step", "left"), ("status", "left"), ("bytes", "right"),
                      ("duration", "right"), ("attempts", "right"), ("note", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    shown = records
    if len(records) > SUMMARY_ROWS:
        head = records[: SUMMARY_ROWS // 2]
        rest = [r for r in records[SUMMARY_ROWS // 2 :] if r.status not in ("ok", "skipped")]
        shown = head + rest[: SUMMARY_ROWS // 2]
    for r in shown:
        table.add_row(*_row(r))
    hidden = len(records) - len(shown)
    if hidden:
        ok = sum(1 for r in records if r.status == "ok")
        table.caption = f"{hidden} more steps not shown ({ok} of {len(records)} ok); --json lists every step"
    return table
