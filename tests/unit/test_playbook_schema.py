"""Playbook schema: step kinds, defaults, capture rules, file names and the JSON Schema for editors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from collector.playbook import (
    CaptureStep,
    Playbook,
    ShowStep,
    playbook_json_schema,
)
from collector.runner.plan import PlannedStep, plan_steps
from collector.store.rundir import slugify


def pb(steps: list[Any], **extra: Any) -> Playbook:
    return Playbook.model_validate({"name": "t", "platform": "cisco_ios", "steps": steps, **extra})


CAPTURE: dict[str, Any] = {
    "capture": "ospf-adj",
    "start": ["terminal monitor", "debug ip ospf adj"],
    "stop": ["undebug all", "terminal no monitor"],
    "until": {"duration": "2h"},
}


def test_step_kind_from_command_or_capture_and_shorthand() -> None:
    model = pb(["show version", {"command": "show clock"}, CAPTURE])
    assert [type(s) for s in model.steps] == [ShowStep, ShowStep, CaptureStep]
    assert [s.kind for s in model.steps] == ["show", "show", "capture"]
    assert model.steps[0].name == "show version"
    assert model.captures()[0].name == "ospf-adj"


def test_both_or_neither_kind_is_an_error() -> None:
    for bad in ({"command": "x", "capture": "y"}, {"name": "x"}, 42):
        with pytest.raises(ValidationError, match="exactly one of `command:`"):
            pb([bad])


def test_defaults_fill_show_steps_and_cleanup() -> None:
    model = pb(
        [{"command": "a"}, {"command": "b", "idle_timeout": "5s", "max_time": "1h"}],
        defaults={"idle_timeout": "90s", "max_time": "2h"},
        cleanup=["terminal no monitor"],
    )
    a, b = model.steps
    assert isinstance(a, ShowStep) and isinstance(b, ShowStep)
    assert (a.idle_timeout, a.max_time) == (90.0, 7200.0)
    assert (b.idle_timeout, b.max_time) == (5.0, 3600.0)
    assert model.cleanup[0].idle_timeout == 90.0
    plain = pb(["a"])
    assert plain.steps[0].idle_timeout == 60.0 and plain.steps[0].max_time is None  # type: ignore[union-attr]


def test_show_step_fields() -> None:
    step = ShowStep.model_validate(
        {
            "command": "  show logging  ",
            "name": "log",
            "mode": "exec",
            "resume": "offset",
            "offset_command": "show logging | begin {offset}",
            "expect_error": True,
            "allow_changes": True,
            "session_state": True,
            "tags": ["logs"],
        }
    )
    assert step.command == "show logging"
    assert (step.name, step.label, step.mode, step.resume) == ("log", "log", "exec", "offset")
    assert step.expect_error and step.allow_changes and step.session_state and step.tags == ["logs"]


@pytest.mark.parametrize(
    ("step", "needle"),
    [
        ({"command": "show run", "resume": "offset"}, "offset_command"),
        ({"command": "show run", "resume": "offset", "offset_command": "show run"}, "{offset}"),
        ({"command": "show version\nreload"}, "one line"),
        ({"command": "   "}, "empty"),
        ({"command": "x", "resume": "later"}, "'rerun', 'skip' or 'offset'"),
        ({"command": "x", "idle_timeout": "0"}, "greater than 0"),
    ],
)
def test_show_step_errors(step: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        pb([step])
    assert needle in str(info.value)


def test_capture_step_parses_durations_sizes_and_triggers() -> None:
    cap = dict(CAPTURE)
    cap.update(
        until={"duration": "2h", "bytes": "500MB", "match": "%OSPF-5-ADJCHG.*Down", "stop_file": "/tmp/stop"},
        rotate={"size": "16MiB", "interval": "5m"},
        on_match=[{"match": "Down", "run": ["show ip ospf neighbor"], "then": "stop"}],
        keepalive="off",
        precheck={"command": "show processes cpu", "threshold": {"regex": r"five seconds: (\d+)%", "max": 60}},
        rate_guard={"max_bytes_per_s": "200KB", "for": "20s"},
        slow_line="buffer",
    )
    step = pb([cap]).steps[0]
    assert isinstance(step, CaptureStep)
    assert step.until.duration == 7200.0 and step.until.bytes == 500_000_000
    assert step.rotate.size == 16 * 1024**2 and step.rotate.interval == 300.0
    trig = step.on_match[0]
    assert (trig.debounce, trig.max_runs, trig.then, trig.run) == (30.0, 3, "stop", ["show ip ospf neighbor"])
    assert step.keepalive is None
    assert step.precheck is not None and step.precheck.threshold is not None and step.precheck.threshold.max == 60
    assert step.rate_guard is not None
    assert (step.rate_guard.max_bytes_per_s, step.rate_guard.for_) == (200_000, 20.0)
    assert step.slow_line == "buffer"


def test_capture_defaults() -> None:
    step = pb([CAPTURE]).steps[0]
    assert isinstance(step, CaptureStep)
    assert step.rotate.size == 64 * 1024**2 and step.rotate.interval == 900.0
    assert step.keepalive == 60.0 and step.slow_line == "auto" and step.on_match == []
    assert step.precheck is None and step.rate_guard is None


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"until": {"match": "x"}}, "needs a cap"),
        ({"start": []}, "at least 1"),
        ({"capture": "../etc"}, "names a directory"),
        ({"precheck": {"command": "show cpu"}}, "exactly one of"),
        ({"precheck": {"command": "c", "fail_if_match": "x", "threshold": {"regex": "(1)", "max": 1}}}, "exactly one"),
        ({"precheck": {"command": "c", "threshold": {"regex": "no group", "max": 1}}}, "needs a group"),
        ({"on_match": [{"match": "(", "run": ["show x"]}]}, "bad regular expression"),
        ({"on_match": [{"match": "x", "run": []}]}, "at least 1"),
        ({"on_match": [{"match": "x", "run": ["a"], "max_runs": 0}]}, "greater than or equal to 1"),
        ({"rate_guard": {"for": "5s"}}, "max_bytes_per_s"),
        ({"slow_line": "always"}, "'auto', 'off' or 'buffer'"),
        ({"stop": ["undebug all\nreload"]}, "one line"),
    ],
)
def test_capture_errors(change: dict[str, Any], needle: str) -> None:
    cap = {**CAPTURE, **change}
    with pytest.raises(ValidationError) as info:
        pb([cap])
    assert needle in str(info.value)


def test_capture_names_are_unique() -> None:
    with pytest.raises(ValidationError, match="used twice"):
        pb([CAPTURE, CAPTURE])


def test_playbook_level_rules() -> None:
    with pytest.raises(ValidationError, match="at least 1"):
        pb([])
    with pytest.raises(ValidationError, match="variable name"):
        pb(["a"], vars={"not-a-name": "x"})
    with pytest.raises(ValidationError, match="unknown platform"):
        Playbook.model_validate({"name": "t", "platform": "ios", "steps": ["a"]})
    with pytest.raises(ValidationError, match="Extra inputs"):
        pb(["a"], bogus=1)
    model = pb(["a"], vars={"a": "x", "n": 3, "b": True}, allow_changes=True, description="d")
    assert model.vars == {"a": "x", "n": 3, "b": True} and model.allow_changes


@pytest.mark.parametrize(
    ("index", "label", "expected"),
    [
        (1, "show version", "001-show-version.txt"),
        (12, "show ip interface brief", "012-show-ip-interface-brief.txt"),
        (3, "show run | include ^interface", "003-show-run-include-interface.txt"),
        (7, "show interfaces GigabitEthernet0/0/1", "007-show-interfaces-gigabitethernet0-0-1.txt"),
        (1000, "uname -a", "1000-uname-a.txt"),
        (2, "!!!", "002-x.txt"),
    ],
)
def test_step_file_names(index: int, label: str, expected: str) -> None:
    assert PlannedStep(index=index, name=label, command=label).filename == expected


def test_step_file_names_stay_short_and_plain() -> None:
    long = "show " + " ".join(f"word{i}" for i in range(40))
    slug = PlannedStep(index=4, name=long, command=long).filename[len("004-") : -len(".txt")]
    assert len(slug) <= 60 and not slug.endswith("-") and re.fullmatch(r"[a-z0-9._-]+", slug)
    steps = plan_steps(pb([CAPTURE]))
    assert steps[0].filename == "001-ospf-adj.txt"
    assert slugify("A  B__C") == "a-b__c"


def test_json_schema_for_editors() -> None:
    schema = playbook_json_schema()
    text = json.dumps(schema)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "collector playbook"
    assert {"name", "platform", "steps", "cleanup", "vars", "defaults", "allow_changes"} <= set(schema["properties"])
    assert set(schema["required"]) == {"name", "platform", "steps"}
    defs = schema["$defs"]
    assert {"ShowStep", "CaptureStep", "Until", "Trigger", "RateGuard", "Precheck"} <= set(defs)
    assert "for" in defs["RateGuard"]["properties"]
    idle = defs["ShowStep"]["properties"]["idle_timeout"]
    assert "string" in json.dumps(idle) and "pattern" in json.dumps(idle)
    assert defs["ShowStep"]["properties"]["idle_timeout"].get("description") or "Duration" in json.dumps(idle)
    assert defs["ShowStep"].get("additionalProperties") is False
    assert "description" in defs["CaptureStep"]
    assert "{{ var }}" in text  # command descriptions mention variables
    step_kinds = schema["properties"]["steps"]["items"]["anyOf"]
    assert {"type": "string"}.items() <= step_kinds[0].items()
    assert {"$ref": "#/$defs/ShowStep"} in step_kinds and {"$ref": "#/$defs/CaptureStep"} in step_kinds


def test_offset_command_may_use_offset1_and_is_guarded_as_rendered(tmp_path: Path) -> None:
    """The README's `tail -c +{offset1} FILE` validates; the guard checks the command as the runner renders it."""
    from collector.platforms import load_platform
    from collector.playbook import check_playbook, iter_commands, load_playbook
    from collector.playbook.guard import PlaybookRefused

    text = (
        "name: t\nplatform: linux\nsteps:\n  - command: cat /var/log/big.log\n    resume: offset\n"
        "    offset_command: 'tail -c +{offset1} /var/log/big.log'\n"
    )
    path = tmp_path / "pb.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_playbook(path)
    rendered = [c.command for c in iter_commands(loaded.model) if c.role == "offset_command"]
    assert rendered == ["tail -c +1 /var/log/big.log", "tail -c +123456790 /var/log/big.log"]
    check_playbook(loaded, load_platform("linux"))
    path.write_text(text.replace("/var/log/big.log'", "/var/log/big.log -o{offset}'"), encoding="utf-8")
    with pytest.raises(PlaybookRefused, match="offset_command"):
        check_playbook(load_playbook(path), load_platform("linux"))
