"""Parsing a run directory after the fact: parsed/ files and index, failures recorded, re-parse, old journal
formats, and `collector parse`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from collector.parse.files import iter_records, outcomes_by_source
from collector.parse.run import StepChoice, parse_run
from collector.store.rundir import RunDir
from tests.corpus.legacy_run import make_legacy_run
from tests.corpus.make_run import RunSpec, StepSpec, make_run

ROOT = Path(__file__).resolve().parents[2]
IOS = ROOT / "transcripts" / "cisco_ios"


def sample(runs: Path) -> Path:
    return make_run(runs, RunSpec(steps=[
        StepSpec("sh ip int br", (IOS / "show ip interface brief.txt").read_bytes()),
        StepSpec("show running-config", (IOS / "show running-config.txt").read_bytes()),
        StepSpec("show bogus", b"% Invalid input detected at '^' marker.\n", status="error",
                 error_marker="% Invalid input"),
        StepSpec("show processes cpu", (IOS / "show processes cpu.txt").read_bytes()),
    ]))


def collector(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "COLLECTOR_DEBUG": ""})


def test_every_completed_step_is_parsed_or_says_why(tmp_path: Path) -> None:
    rd = sample(tmp_path / "runs")
    report = parse_run(rd)
    by = {o.command: o for o in report.outcomes}
    assert report.platform == "cisco_ios" and report.parsed == 2
    assert by["sh ip int br"].file == "parsed/001-sh-ip-int-br.json" and by["sh ip int br"].records == 4
    assert by["sh ip int br"].resolved == "show ip interface brief"
    assert "no ntc-templates template" in (by["show running-config"].reason or "")
    assert by["show bogus"].reason == "the step ended error: its output is not parsed"
    records = list(iter_records(rd / "parsed" / "001-sh-ip-int-br.json"))
    assert records[1] == {"interface": "GigabitEthernet0/0/1", "ip_address": "10.0.12.1", "status": "up",
                          "proto": "up"}
    doc = json.loads((rd / "parsed" / "004-show-processes-cpu.json").read_text())
    assert doc["meta"]["template"] == "cisco_ios_show_processes_cpu.textfsm" and doc["meta"]["records"] == 18
    assert doc["meta"]["source_sha256"] == RunDir.open(rd).state().ordered()[3].sha256
    index = json.loads((rd / "parsed" / "index.json").read_text())
    assert [s["source"] for s in index["steps"]] == [f"steps/{p.name}" for p in sorted((rd / "steps").iterdir())]
    assert sorted(p.name for p in (rd / "parsed").iterdir()) == ["001-sh-ip-int-br.json",
                                                                 "004-show-processes-cpu.json", "index.json"]


def test_reparse_follows_the_new_choice_and_drops_stale_files(tmp_path: Path) -> None:
    rd = sample(tmp_path / "runs")
    parse_run(rd)
    again = parse_run(rd, override=StepChoice("none"))
    assert again.parsed == 0 and not list((rd / "parsed").glob("0*.json"))
    # the next plain re-parse keeps each step's recorded choice (none) until told otherwise
    assert parse_run(rd).parsed == 0
    assert parse_run(rd, override=StepChoice("auto")).parsed == 2
    limited = parse_run(rd, override=StepChoice("auto", 100))
    assert limited.parsed == 0
    assert all("above the parse limit of 100 bytes" in (o.reason or "") for o in limited.outcomes
               if o.reason and "ended error" not in o.reason)


def test_playbook_choices_by_step_number(tmp_path: Path) -> None:
    rd = sample(tmp_path / "runs")
    report = parse_run(rd, choices={1: StepChoice("none"), 4: StepChoice("textfsm")})
    by = {o.command: o for o in report.outcomes}
    assert by["sh ip int br"].choice == "none" and by["sh ip int br"].file is None
    assert by["show processes cpu"].choice == "textfsm" and by["show processes cpu"].parser == "textfsm"
    assert outcomes_by_source(rd)["steps/001-sh-ip-int-br.txt"].choice == "none"


def test_a_run_made_before_typed_events_folds_and_parses(tmp_path: Path) -> None:
    rd = make_legacy_run(tmp_path / "runs")
    kinds = [(r.kind, r.step, r.status) for r in RunDir.open(rd).state().ordered()]
    assert kinds == [("show", 1, "ok"), ("show", 2, "ok"), ("capture", 3, "ok"), ("trigger", 3, "ok"),
                     ("cleanup", 4, "ok")]
    report = parse_run(rd)
    assert [o.template for o in report.outcomes] == [
        "cisco_ios_show_ip_interface_brief.textfsm", "cisco_ios_show_version.textfsm",
        "cisco_ios_show_processes_cpu.textfsm", "cisco_ios_show_clock.textfsm"]
    assert (rd / "parsed" / "003-cpu-trigger-1-1-show-processes-cpu.json").is_file()


def test_cli_parses_and_reports(tmp_path: Path) -> None:
    rd = make_legacy_run(tmp_path / "runs")
    done = collector("parse", str(rd), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    (run,) = doc["runs"]
    assert run["parsed"] == 4 and run["outputs"] == 4
    text = collector("parse", str(rd), "--parser", "none")
    assert text.returncode == 0 and "parsed 0 of 4 outputs" in text.stdout
    assert "parse: none" in text.stdout


def test_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    done = collector("parse", str(tmp_path))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "is not a collector run directory" in done.stderr
    rd = make_legacy_run(tmp_path / "runs")
    bad = collector("parse", str(rd), "--parser", "regex")
    assert bad.returncode == 2 and "--parser 'regex' is not a parser" in bad.stderr
    size = collector("parse", str(rd), "--max-size", "lots")
    assert size.returncode == 2 and "--max-size 'lots'" in size.stderr


def test_a_journal_cannot_point_the_parser_outside_steps(tmp_path: Path) -> None:
    rd = make_legacy_run(tmp_path / "runs")
    secret = tmp_path / "outside.txt"
    secret.write_text((IOS / "show version.txt").read_text())
    journal = rd / "journal.jsonl"
    forged = []
    for target in ("../../outside.txt", str(secret), "steps/../run.json", "run.json"):
        forged.append(json.dumps({"event": "step-completed", "step": 9, "kind": "cleanup", "status": "ok",
                                  "attempt": 1, "name": "x", "command": "show version", "file": target,
                                  "raw_start": 0, "raw_end": 0, "bytes": 1}))
        journal.write_text(journal.read_text() + forged[-1] + "\n")
        report = parse_run(rd)
        (last,) = [o for o in report.outcomes if o.source == target]
        assert last.parser is None and last.reason == f"{target} is not a step file of this run directory"
    assert sorted(p.name for p in (rd / "parsed").iterdir()) == [
        "001-sh-ip-int-br.json", "002-show-version.json", "003-cpu-trigger-1-1-show-processes-cpu.json",
        "004-show-clock.json", "index.json"]
