"""Parsing end to end over SSH against the simulator: outputs collected, then parsed after the run; parsed-field
pre-checks and polled triggers on a live capture; a parser failure never fails the run."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from collector.parse.files import iter_records
from collector.platforms import load_platform
from collector.playbook import load_playbook
from collector.runner import runner as runner_module
from collector.runner.observer import RunObserver
from collector.runner.plan import plan_steps, playbook_info
from collector.runner.runner import Runner, RunOptions, RunOutcome
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer
from collector.store.journal import read_journal
from collector.target import parse_target
from tests.faults.harness import PASSWORD, options

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = """\
name: parse-e2e
platform: cisco_ios
steps:
  - sh ip int br
  - show processes cpu
  - show running-config
  - {command: show version, parse: none}
  - capture: cpu
    precheck: {parsed: show processes cpu, field: cpu_usage_5_sec, max: 60}
    start: [terminal monitor]
    stop: [terminal no monitor]
    until: {duration: 20s}
    on_match:
      - {parsed: sh proc cpu, field: CPU_USAGE_5_SEC, max: 1, every: 1s, run: [show clock], then: stop}
"""


class Notes(RunObserver):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def notice(self, message: str) -> None:
        self.notes.append(message)


def run(tmp: Path, profile: DeviceProfile, observer: RunObserver | None = None) -> RunOutcome:
    (tmp / "pb.yaml").write_text(textwrap.dedent(PLAYBOOK))
    loaded = load_playbook(tmp / "pb.yaml")
    with SimSSHServer(profile, users={"admin": PASSWORD}) as srv:
        return Runner(plan_steps(loaded.model), load_platform("cisco_ios"),
                      parse_target(f"ssh://admin@127.0.0.1:{srv.port}"), options(tmp),
                      RunOptions(runs_dir=tmp / "runs"), observer, playbook_info=playbook_info(loaded)).start()


def test_outputs_are_parsed_after_the_run_and_a_parsed_trigger_fires(tmp_path: Path) -> None:
    outcome = run(tmp_path, DeviceProfile.load("cisco_ios"))
    assert outcome.status == "ok", outcome.error
    rd = outcome.run_dir
    index = {s["source"]: s for s in json.loads((rd / "parsed" / "index.json").read_text())["steps"]}
    brief = index["steps/001-sh-ip-int-br.txt"]
    assert brief["parser"] == "textfsm" and brief["resolved"] == "show ip interface brief" and brief["records"] == 4
    assert [r["interface"] for r in iter_records(rd / brief["file"])][:2] == ["GigabitEthernet0/0/0",
                                                                              "GigabitEthernet0/0/1"]
    assert "no ntc-templates template" in index["steps/003-show-running-config.txt"]["reason"]
    assert index["steps/004-show-version.txt"]["reason"] == "parse: none (the step asks for no parsing)"
    journal = list(read_journal(rd / "journal.jsonl"))
    pre = next(e for e in journal if e["event"] == "capture-precheck")
    assert pre["ok"] and pre["value"] == 3.0
    fired = next(e for e in journal if e["event"] == "trigger-fired")
    assert fired["line"] == "CPU_USAGE_5_SEC = 3 is above 1 (`sh proc cpu`)"
    stopped = next(e for e in journal if e["event"] == "capture-stopped")
    assert stopped["status"] == "stopped-by-trigger" and stopped["triggers_fired"] == 1
    trigger = next(s for s in index.values() if "-trigger-1-1-" in s["source"])
    assert trigger["template"] == "cisco_ios_show_clock.textfsm"


def test_a_busy_device_fails_the_parsed_precheck(tmp_path: Path) -> None:
    profile_dir = tmp_path / "busy"
    shutil.copytree(ROOT / "transcripts" / "cisco_ios", profile_dir)
    shutil.copy(ROOT / "tests" / "corpus" / "parse" / "cisco_ios" / "show processes cpu high.txt",
                profile_dir / "show processes cpu.txt")
    outcome = run(tmp_path, DeviceProfile.load(profile_dir))
    journal = list(read_journal(outcome.run_dir / "journal.jsonl"))
    pre = next(e for e in journal if e["event"] == "capture-precheck")
    assert not pre["ok"] and pre["value"] == 87.0 and pre["reason"] == "pre-check cpu_usage_5_sec = 87 is above 60"
    assert not any(e["event"] == "capture-started" for e in journal)  # debug never started on a busy device
    assert next(r for r in outcome.steps if r.kind == "capture").status == "failed"


def test_a_parser_failure_never_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("templates unreadable")

    monkeypatch.setattr(runner_module, "parse_run", broken)
    notes = Notes()
    outcome = run(tmp_path, DeviceProfile.load("cisco_ios"), notes)
    assert outcome.status == "ok" and outcome.error is None
    assert any("outputs not parsed (RuntimeError: templates unreadable)" in n for n in notes.notes)
    assert not (outcome.run_dir / "parsed").exists()
