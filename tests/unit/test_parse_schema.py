"""The playbook side of parsing: `parse:` per step (default auto), parsed-field pre-checks and triggers (validated,
guarded, evaluated on recorded outputs)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import get_args

import pytest

from collector.errors import PlaybookError
from collector.parse.outcome import ParseChoice as EngineChoice
from collector.platforms import load_platform
from collector.playbook import check_playbook, load_playbook, validate_playbook
from collector.playbook.guard import PlaybookRefused, iter_commands
from collector.playbook.schema import ParseChoice, Precheck, Trigger
from collector.runner.guards import evaluate_precheck
from collector.runner.plan import plan_steps

ROOT = Path(__file__).resolve().parents[2]
CPU = (ROOT / "transcripts" / "cisco_ios" / "show processes cpu.txt").read_text()
HIGH = (ROOT / "tests" / "corpus" / "parse" / "cisco_ios" / "show processes cpu high.txt").read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pb.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_schema_and_the_engine_know_the_same_parsers() -> None:
    assert get_args(ParseChoice) == get_args(EngineChoice)


def test_parse_per_step_default_auto_and_defaults(tmp_path: Path) -> None:
    loaded = load_playbook(write(tmp_path, """\
        name: t
        platform: cisco_ios
        defaults: {parse_max_size: 1MiB}
        steps:
          - show version
          - {command: show running-config, parse: none}
          - {command: show inventory, parse: ttp, parse_max_size: 10MB}
        """))
    steps = plan_steps(loaded.model)
    assert [(s.parse, s.parse_max_bytes) for s in steps] == [("auto", 1 << 20), ("none", 1 << 20),
                                                             ("ttp", 10_000_000)]


@pytest.mark.parametrize(("snippet", "needle"), [
    ("  - {command: show version, parse: regex}", "parse"),
    ("  - capture: c\n    start: [debug ip ospf adj]\n    stop: [undebug all]\n    until: {duration: 1m}\n"
     "    precheck: {parsed: show processes cpu, max: 60}", "`parsed:` needs `field:`"),
    ("  - capture: c\n    start: [debug ip ospf adj]\n    stop: [undebug all]\n    until: {duration: 1m}\n"
     "    precheck: {parsed: show processes cpu, field: cpu_usage_5_sec}", "`parsed:` needs `max:` or `min:`"),
    ("  - capture: c\n    start: [debug ip ospf adj]\n    stop: [undebug all]\n    until: {duration: 1m}\n"
     "    precheck: {command: show version, field: x, max: 1, fail_if_match: y}", "need `parsed:`"),
    ("  - capture: c\n    start: [debug ip ospf adj]\n    stop: [undebug all]\n    until: {duration: 1m}\n"
     "    on_match: [{match: x, parsed: show clock, field: year, max: 1, run: [show clock]}]", "exactly one of"),
    ("  - capture: c\n    start: [debug ip ospf adj]\n    stop: [undebug all]\n    until: {duration: 1m}\n"
     "    precheck: {command: show version, parsed: show processes cpu, field: x, max: 1}", "different commands"),
])
def test_bad_parsed_checks_are_one_clean_issue(tmp_path: Path, snippet: str, needle: str) -> None:
    path = write(tmp_path, "name: t\nplatform: cisco_ios\nsteps:\n" + snippet + "\n")
    issues = validate_playbook(path)
    assert len(issues) == 1 and needle in issues[0].format(), [i.format() for i in issues]
    with pytest.raises(PlaybookError):
        load_playbook(path)


def test_parsed_precheck_and_trigger_commands_pass_the_guard(tmp_path: Path) -> None:
    text = """\
    name: t
    platform: cisco_ios
    steps:
      - capture: c
        precheck: {parsed: 'clear counters', field: x, max: 1}
        start: [debug ip ospf adj]
        stop: [undebug all]
        until: {duration: 1h}
        on_match:
          - {parsed: reload, field: cpu_usage_5_sec, max: 80, every: 10s, run: [show clock]}
    """
    loaded = load_playbook(write(tmp_path, text))
    roles = [(c.role, c.command) for c in iter_commands(loaded.model)]
    assert ("precheck", "clear counters") in roles and ("on_match", "reload") in roles
    with pytest.raises(PlaybookRefused) as info:
        check_playbook(loaded, load_platform("cisco_ios"))
    assert {r.command for r in info.value.refusals} == {"clear counters", "reload"}


def precheck(**kw: object) -> Precheck:
    return Precheck.model_validate({"parsed": "show processes cpu", "field": "cpu_usage_5_sec", **kw})


def test_parsed_precheck_on_recorded_outputs() -> None:
    ok = evaluate_precheck(precheck(max=60), CPU, "cisco_ios")
    assert ok.ok and ok.value == 3.0 and ok.reason == "pre-check cpu_usage_5_sec = 3 is within <= 60"
    busy = evaluate_precheck(precheck(max=60), HIGH, "cisco_ios")
    assert not busy.ok and busy.value == 87.0 and busy.reason == "pre-check cpu_usage_5_sec = 87 is above 60"
    one = evaluate_precheck(precheck(field="process_cpu_usage_5_sec", max=50, where={"process_name": "ARP"}),
                            HIGH, "cisco_ios")
    assert one.ok and one.value == 9.91


def test_a_precheck_that_cannot_read_its_field_fails_safe() -> None:
    missing = evaluate_precheck(precheck(field="cpu_5_sec", max=60), CPU, "cisco_ios")
    assert not missing.ok and "no field 'cpu_5_sec'" in missing.reason and "cpu_usage_5_sec" in missing.reason
    garbage = evaluate_precheck(precheck(max=60), "% Invalid input detected at '^' marker.\n", "cisco_ios")
    assert not garbage.ok and "did not parse" in garbage.reason
    no_template = evaluate_precheck(Precheck.model_validate({"parsed": "show foo", "field": "x", "max": 1}), CPU,
                                    "cisco_ios")
    assert not no_template.ok and "no ntc-templates template" in no_template.reason


def test_trigger_condition_text() -> None:
    t = Trigger.model_validate({"parsed": "show processes cpu", "field": "cpu_usage_5_sec", "max": 80,
                                "run": ["show processes cpu sorted"]})
    assert t.condition == "cpu_usage_5_sec > 80 in `show processes cpu`" and t.every == 30.0
