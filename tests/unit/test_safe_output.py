"""Device, playbook and inventory text is data on the terminal: markup, OSC/CSI sequences and C1 bytes fed
through every place that prints never crash, never style, never reach the terminal as control sequences.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from collector.cli import app
from collector.cli.outcome import print_outcome
from collector.errors import DeviceError
from collector.runner.runner import RunOutcome
from collector.store.records import Attempt, StepRecord
from collector.ui import console as ui
from collector.ui.log_observer import LoggingObserver
from collector.ui.progress import RichObserver, summary_table

HOSTILE = [
    "[/]", "[bold red]x[/]", "[link=https://evil.example/fix]R1[/link]", "[a-z]", "\x1b]8;;https://evil/\x07R1\x1b]8;;\x07",
    "\x1b[2J\x1b[H", "\x9b31m", "\x1b]0;title\x07", "R1\x07#", "\x1bP+q\x1b\\", "grep -c '[/]bin' /etc/passwd",
]
hostile = st.one_of(st.sampled_from(HOSTILE),
                    st.lists(st.sampled_from(list("[]/=\x1b\x9b\x07\x85\x8d;ab ") + ["]8;;", "[/", "[link="]))
                    .map("".join))
BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=100, force_terminal=False, color_system=None), buf


def shown(buf: io.StringIO) -> str:
    text = buf.getvalue()
    assert not BAD.search(text), repr(text)
    return text


@settings(max_examples=150, deadline=None)
@given(hostile)
def test_the_progress_observer_prints_any_text_literally(text: str) -> None:
    c, buf = console()
    obs = RichObserver(c)
    obs.run_started(text, text, 3)
    obs.connected({"transport": text}, 9600)
    obs.step_started(1, text)
    obs.bytes_read(10)
    obs.step_finished(1, text, "ok", 10, 0.5)
    obs.notice(text)
    obs.run_finished(text)
    out = shown(buf)
    assert ui.clean(text).strip() in out.replace("\n", "") or not ui.clean(text).strip()
    LoggingObserver().notice(text)  # log records are cleaned too


@settings(max_examples=100, deadline=None)
@given(hostile, hostile)
def test_the_summary_table_and_errors_print_any_text_literally(name: str, marker: str) -> None:
    rec = StepRecord(step=1, name=name, command=name, status="error", error_marker=marker,
                     attempts=[Attempt(attempt=1, raw_start=0, status="interrupted", bytes=5)])
    c, buf = console()
    c.print(summary_table([rec], name))
    shown(buf)


def test_the_literal_text_survives(capsys: pytest.CaptureFixture[str]) -> None:
    ui.say("step ", "[a-z] and [/] stay")
    assert "[a-z] and [/] stay" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        ui.fail(DeviceError("prompt [link=https://evil.example/fix]R1 \x1b[31mred", hint="[bold]hint[/]"))
    err = capsys.readouterr().err
    assert exc.value.code == 17 and "[link=https://evil.example/fix]R1 red" in err and "[bold]hint[/]" in err
    assert "\x1b" not in err


def test_a_run_outcome_with_hostile_names_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = [StepRecord(step=i, name=t, command=t, status="ok", bytes=1) for i, t in enumerate(HOSTILE, 1)]
    code = print_outcome(RunOutcome(tmp_path / "[/]run", "ok", recs), as_json=False)
    captured = capsys.readouterr()
    assert code == 0 and not BAD.search(captured.out + captured.err)
    print_outcome(RunOutcome(tmp_path / "[/]run", "ok", recs), as_json=True)
    doc = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in doc["steps"]] == HOSTILE  # machine output keeps the data exactly


def test_validate_reports_hostile_keys_and_steps(tmp_path: Path) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text('name: x\nplatform: cisco_ios\n"[/]": 1\nsteps:\n  - command: "show [link=x]y[/link]"\n'
                  '  - {comand: "[bold]show[/]"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(pb)])
    assert result.exit_code == 3, result.output
    assert "[/]" in result.output and "Traceback" not in result.output


def test_quick_steps_print_one_line_each_and_no_live_bar() -> None:
    """A playbook of quick commands costs plain lines: no live display is started for a step that ends early."""
    c, buf = console()
    obs = RichObserver(c)
    obs.run_started("runs/x", "ssh://h", 50)
    for i in range(1, 51):
        obs.step_started(i, f"echo {i}")
        obs.bytes_read(3)
        obs.step_finished(i, f"echo {i}", "ok", 3, 0.001)
    obs.run_finished("ok")
    assert obs._progress is None  # never built
    lines = [x for x in buf.getvalue().splitlines() if " ok " in x]
    assert len(lines) == 50


def test_a_slow_step_shows_its_bar_and_takes_it_away(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import collector.ui.progress as progress

    monkeypatch.setattr(progress, "REVEAL_AFTER", 0.01)
    c, buf = console()
    obs = RichObserver(c)
    obs.step_started(1, "show tech")
    obs.bytes_read(1000)
    shown_bar = threading.Event()
    deadline = 200
    while obs.task is None and deadline:  # the timer thread reveals the bar; wait for that condition
        shown_bar.wait(0.01)
        deadline -= 1
    assert obs.task is not None and obs._progress is not None
    assert obs._progress.tasks[0].completed == 1000  # bytes read before the bar appeared are counted
    obs.bytes_read(500)
    assert obs._progress.tasks[0].completed == 1500
    obs.step_finished(1, "show tech", "ok", 1500, 0.6)
    assert obs.task is None and not obs._progress.tasks and not obs._progress.live.is_started


SGR = re.compile(r"\x1b\[[0-9;]*m")  # our own colours, nothing else


@settings(max_examples=150, deadline=None)
@given(hostile)
def test_the_fast_line_path_on_a_colour_terminal_prints_any_text_literally(text: str) -> None:
    """Step lines are written straight to the terminal (no rich print): device text still carries no control
    sequence; only the console's own SGR colours appear, and only where a status is styled."""
    buf = io.StringIO()
    c = Console(file=buf, width=100, force_terminal=True, color_system="truecolor")
    obs = RichObserver(c)
    obs.run_started(text, text, 1)
    obs.step_started(1, text)
    obs.step_finished(1, text, "error", 10, 0.5)
    obs.notice(text)
    obs.run_finished(text)
    out = SGR.sub("", buf.getvalue())
    assert not BAD.search(out), repr(out)
    assert "\x1b[" in buf.getvalue()  # the status was coloured
    assert ui.clean(text).strip() in out.replace("\n", "") or not ui.clean(text).strip()
