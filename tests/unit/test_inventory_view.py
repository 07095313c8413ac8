"""The fleet's one view: a live panel on a terminal (done/running/failed, bytes, rate, slowest device), plain
lines otherwise; device text is printed as data (no markup, no terminal controls)."""

from __future__ import annotations

import io
import time

from rich.console import Console

from collector.fleet.job import JobResult
from collector.fleet.progress import Board, DeviceObserver
from collector.fleet.view import FleetView, summary


def board() -> Board:
    b = Board.of(["r1", "r2", "[bold]evil\x1b]0;x\x07", "r4"])
    now = time.monotonic()
    b.devices["r1"].state, b.devices["r1"].bytes = "done", 4096
    b.devices["r2"].state, b.devices["r2"].started, b.devices["r2"].step = "running", now - 30, "show tech-support"
    b.devices["r2"].bytes = 1 << 20
    evil = b.devices["[bold]evil\x1b]0;x\x07"]
    evil.state, evil.started, evil.step = "running", now - 5, "show [red]x[/red]"
    b.devices["r4"].state = "failed"
    return b


def test_summary_counts_bytes_rate_and_the_slowest_device() -> None:
    text = summary(board())
    assert text.startswith("1 done, 2 running, 1 failed, 0 queued of 4 | 1.0 MiB at ")
    assert "slowest: r2 (30s, show tech-support)" in text


def test_live_panel_on_a_terminal_and_device_text_as_data() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system="standard")
    view = FleetView(board(), console, "runs/fleet-x")
    view.start()
    view.tick()
    view.result(JobResult(device="r4", status="failed-before-start", exit_code=13, error="[red]auth[/red] refused"))
    view.close()
    out = buf.getvalue()
    assert view.live_on and "\x1b[" in out  # a live panel (cursor movement and colour)
    assert "[bold]evil" in out and "\x1b]0;x" not in out  # markup printed literally, OSC title sequence removed
    assert "[red]auth[/red] refused" in out and "show [red]x[/red]" in out


def test_plain_lines_when_not_a_terminal() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, width=200)
    view = FleetView(board(), console, "runs/fleet-x")
    view.start()
    view.tick()
    view.result(JobResult(device="r1", status="ok", exit_code=0, steps=5, steps_ok=5, bytes=4096, duration=1.5))
    view.close()
    lines = buf.getvalue().splitlines()
    assert lines[0] == "fleet runs/fleet-x: 4 devices"
    assert "[1/4] r1 ok 5/5 steps 4.0 KiB 1.5s" in lines
    assert "\x1b[" not in buf.getvalue()


def test_a_stopping_fleet_interrupts_a_device_once_and_never_its_cleanup() -> None:
    import threading

    import pytest

    stop = threading.Event()
    b = Board.of(["r1"])
    obs = DeviceObserver(b, "r1", stop, cleanup_steps={9})
    obs.step_started(1, "show version")
    obs.bytes_read(10)
    stop.set()
    with pytest.raises(KeyboardInterrupt):
        obs.bytes_read(10)
    obs.step_started(9, "terminal no monitor")  # cleanup: never interrupted
    obs.bytes_read(10)
    obs.step_started(2, "show clock")  # once only
    assert b.devices["r1"].bytes == 30
