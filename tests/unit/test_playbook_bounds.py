"""Bounded playbook loading: billion laughs, deep nesting, huge numbers and big files end as file:line errors, fast."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.playbook import PlaybookInvalid, load_playbook, parse_duration, parse_size, validate_playbook
from collector.playbook.yaml_read import MAX_ALIASES, MAX_BYTES

HEAD = "name: t\nplatform: cisco_ios\n"


def laughs(levels: int = 9) -> str:
    """The classic alias bomb: each anchor repeats the previous one 9 times (9**levels values)."""
    lines = [HEAD.rstrip("\n"), "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    lines.append(f"steps: [*a{levels - 1}]")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "pb.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only_issue(path: Path) -> str:
    issues = validate_playbook(path)
    assert len(issues) == 1, issues
    return f"{issues[0]}"


def test_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, laughs())
    started = time.perf_counter()
    message = only_issue(path)
    assert time.perf_counter() - started < 0.5
    assert message.startswith(f"{path}:") and "aliases are expanded" in message


def test_billion_laughs_costs_no_memory_in_the_cli(tmp_path: Path) -> None:
    """Whole process: exit 3 with file:line, well under a second of work and a small peak RSS."""
    path = write(tmp_path, laughs())
    probe = (  # VmHWM: this process's peak RSS (ru_maxrss would include the forking parent's)
        "import re, time\n"
        "from typer.testing import CliRunner\n"
        "from collector.cli import app\n"
        "t = time.perf_counter()\n"
        f"r = CliRunner().invoke(app, ['validate', {str(path)!r}])\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "print(r.exit_code, time.perf_counter() - t, hwm)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    code, seconds, rss_kib = done.stdout.split()
    assert int(code) == 3
    assert float(seconds) < 1.0
    assert int(rss_kib) < 200 * 1024


@pytest.mark.parametrize("flow", [True, False])
def test_deep_nesting_is_a_file_line_error(tmp_path: Path, flow: bool) -> None:
    block = "\n" + "".join(f"{'  ' * (i + 3)}- \n" for i in range(1000))
    nested = "[" * 1000 + "]" * 1000 if flow else block
    path = write(tmp_path, HEAD + "steps:\n  - command: show x\n    tags: " + nested + "\n")
    message = only_issue(path)
    line = int(message[len(f"{path}:") :].split(":")[0])
    assert (line == 5) if flow else (60 < line < 70)  # where the 65th level opens
    assert "nesting deeper than 64" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9" * 400, "a number with 400 digits"),
        ("9" * 5000, "a number with 5000 digits"),
        ("'" + "9" * 400 + "s'", "finite"),
        ("99999999999999999999999", "longer than 366 days"),
        ("1e400", "finite"),
        ("!!int '" + "9" * 5000 + "'", "a number with 5000 digits"),
        ("!!int ''", "cannot read"),
    ],
)
def test_huge_numbers_in_durations_are_file_line_errors(tmp_path: Path, value: str, expected: str) -> None:
    path = write(tmp_path, HEAD + "steps:\n  - command: show x\n    idle_timeout: " + value + "\n")
    message = only_issue(path)
    assert message.startswith(f"{path}:") and expected in message


@pytest.mark.parametrize("value", ["99999999999999999999", "'99999999999999999999TiB'", "1e30"])
def test_huge_sizes_are_file_line_errors(tmp_path: Path, value: str) -> None:
    text = HEAD + (
        "steps:\n  - capture: c\n    start: [debug ip ospf adj]\n    stop: [undebug all]\n"
        f"    until: {{duration: 1h, bytes: {value}}}\n"
    )
    path = write(tmp_path, text)
    message = only_issue(path)
    assert message.startswith(f"{path}:7:") and "bad size" in message


def test_parsers_never_overflow() -> None:
    for bad in (10**400, -(10**400), "9" * 400 + "h"):
        with pytest.raises(ValueError, match="bad duration"):
            parse_duration(bad)
        with pytest.raises(ValueError, match="bad size"):
            parse_size(bad)


def test_document_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "steps: [show x]\n" + "#" * MAX_BYTES + "\n")
    assert "limit is 1,048,576" in only_issue(path)


def test_alias_count_limit(tmp_path: Path) -> None:
    text = HEAD + "x: &x show version\nsteps: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    assert f"more than {MAX_ALIASES} aliases" in only_issue(write(tmp_path, text))


def test_ordinary_anchors_still_work(tmp_path: Path) -> None:
    text = HEAD + (
        "steps:\n  - capture: c\n    start: &on [terminal monitor, debug ip ospf adj]\n"
        "    stop: &off [undebug all]\n    until: {duration: 1h}\n"
        "  - capture: d\n    start: *on\n    stop: *off\n    until: {duration: 1h}\n"
    )
    loaded = load_playbook(write(tmp_path, text))
    assert [s.stop for s in loaded.model.captures()] == [["undebug all"], ["undebug all"]]


def test_bounds_raise_playbook_invalid_with_exit_3(tmp_path: Path) -> None:
    with pytest.raises(PlaybookInvalid) as info:
        load_playbook(write(tmp_path, laughs()))
    assert info.value.exit_code == 3 and json.dumps(info.value.message)


def _verdict(events: object, kinds: tuple[object, object, object, object]) -> str:
    from collector.yaml_bounds import YamlLimit, _measure

    try:
        _measure(events, kinds)  # type: ignore[arg-type]
    except YamlLimit as exc:
        return f"{exc.line}:{exc}"
    return "ok"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 80), st.integers(0, 40))
def test_libyaml_and_ruamel_measure_documents_alike(fan: int, depth: int, digits: int) -> None:
    """The bounds pass gives the same verdict and line whichever parser produced the events."""
    import yaml as pyyaml
    from ruamel.yaml import YAML
    from ruamel.yaml import events as rev
    from yaml import events as pev

    nested = "a: " + "[" * depth + "1" + "]" * depth + "\n"
    laughs = "l0: &l0 [x]\n" + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * fan)}]\n" for i in range(1, 8))
    number = f"n: {'9' * digits or '0'}\n"
    for text in (nested, laughs, number, nested + laughs + number):
        kinds_r = (rev.AliasEvent, rev.ScalarEvent, rev.CollectionStartEvent, rev.CollectionEndEvent)
        kinds_p = (pev.AliasEvent, pev.ScalarEvent, pev.CollectionStartEvent, pev.CollectionEndEvent)
        slow = _verdict(YAML(typ="rt").parse(text), kinds_r)
        fast = _verdict(pyyaml.parse(text, Loader=pyyaml.CSafeLoader), kinds_p)
        assert fast == slow, text[:80]
