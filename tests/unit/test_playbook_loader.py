"""Loader: every kind of playbook problem is reported with the file, line and column of the key to fix."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from collector.errors import PlaybookError
from collector.playbook import LoadedPlaybook, PlaybookInvalid, PlaybookIssue, load_playbook, validate_playbook

GOOD = """\
name: t
platform: cisco_ios
vars:
  interface: Gi0/1
  verbose: true
steps:
  - command: show version
  - command: show interfaces {{ interface }}
    idle_timeout: 2m
  - show clock
cleanup:
  - command: terminal no monitor
"""


CAP_HEAD = (
    "name: t\nplatform: cisco_ios\nsteps:\n  - capture: c\n    start: [debug ip ospf adj]\n    stop: [undebug all]\n"
)


def write(tmp_path: Path, text: str, name: str = "pb.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def only(issues: list[PlaybookIssue]) -> PlaybookIssue:
    assert len(issues) == 1, [i.format() for i in issues]
    return issues[0]


def test_good_playbook_loads_with_hash_and_positions(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert validate_playbook(path) == []
    loaded = load_playbook(path)
    assert isinstance(loaded, LoadedPlaybook)
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    model = loaded.model
    assert [s.name for s in model.steps] == ["show version", "show interfaces Gi0/1", "show clock"]
    assert loaded.line_of("steps", 1) == 8
    assert loaded.line_of("steps", 1, "idle_timeout") == 9
    assert loaded.line_of("cleanup", 0) == 12
    assert loaded.where("steps", 2) == f"{path}:10"
    assert loaded.variables == {"interface": "Gi0/1", "verbose": "true"}


def test_cli_override_replaces_a_variable(tmp_path: Path) -> None:
    loaded = load_playbook(write(tmp_path, GOOD), overrides={"interface": "Te1/0/1"})
    assert loaded.model.steps[1].command == "show interfaces Te1/0/1"  # type: ignore[union-attr]


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: t
        platform: cisco_ios
        steps:
          - command: show version
          - command: show ip: route
        """,
    )
    issue = only(validate_playbook(path))
    assert (issue.file, issue.line) == (str(path), 5)
    assert "YAML syntax error" in issue.message
    assert str(issue).startswith(f"{path}:5:")


def test_unquoted_colon_gets_a_quoting_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nplatform: cisco_ios\nsteps:\n  - command: show version\n  - command: dir flash:\n")
    issue = only(validate_playbook(path))
    assert issue.line == 5 and "'dir flash:'" in issue.hint
    path.write_text("name: t\nplatform: cisco_ios\nsteps:\n  - command: 'dir flash:'\n", encoding="utf-8")
    assert load_playbook(path).model.steps[0].command == "dir flash:"  # type: ignore[union-attr]


def test_unclosed_quote_names_where_it_started(tmp_path: Path) -> None:
    path = write(tmp_path, 'name: t\nplatform: cisco_ios\nsteps:\n  - command: "show version\n  - command: x\n')
    issue = only(validate_playbook(path))
    assert "started at line 4" in issue.message


def test_duplicate_key_has_the_line_of_the_second(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nplatform: cisco_ios\nname: u\nsteps: [show version]\n")
    issue = only(validate_playbook(path))
    assert issue.line == 3
    assert "duplicate key" in issue.message


@pytest.mark.parametrize(
    ("text", "line", "key", "suggestion"),
    [
        ("name: t\nplatform: cisco_ios\ndescripton: x\nsteps: [show version]\n", 3, "descripton", "description"),
        (
            "name: t\nplatform: cisco_ios\nsteps:\n  - command: show version\n    idle_timout: 5s\n",
            5,
            "idle_timout",
            "idle_timeout",
        ),
        ("name: t\nplatform: cisco_ios\ndefaults:\n  max_tme: 1h\nsteps: [show version]\n", 4, "max_tme", "max_time"),
        (
            CAP_HEAD + "    until:\n      durration: 2h\n      bytes: 1MB\n",
            8,
            "durration",
            "duration",
        ),
        (
            CAP_HEAD + "    until: {duration: 2h}\n    rate_guard:\n      max_bytes_per_s: 1MB\n      fro: 5s\n",
            10,
            "fro",
            "for",
        ),
        (
            CAP_HEAD
            + "    until: {duration: 2h}\n    on_match:\n      - match: Down\n        run: [show ip ospf neighbor]\n"
            "        debounse: 10s\n",
            11,
            "debounse",
            "debounce",
        ),
    ],
)
def test_unknown_key_line_and_did_you_mean(tmp_path: Path, text: str, line: int, key: str, suggestion: str) -> None:
    issue = only(validate_playbook(write(tmp_path, text)))
    assert issue.line == line
    assert f"unknown key {key!r}" in issue.message
    assert issue.hint == f"did you mean {suggestion!r}?"


def test_unknown_key_without_close_match_lists_allowed_keys(tmp_path: Path) -> None:
    text = "name: t\nplatform: cisco_ios\nsteps:\n  - command: show version\n    zzz: 1\n"
    issue = only(validate_playbook(write(tmp_path, text)))
    assert issue.line == 5
    assert "allowed keys here:" in issue.hint and "idle_timeout" in issue.hint


def test_missing_top_level_key(tmp_path: Path) -> None:
    issue = only(validate_playbook(write(tmp_path, "name: t\nsteps: [show version]\n")))
    assert issue.line == 1
    assert "missing required key 'platform'" in issue.message


def test_step_without_command_or_capture_points_at_the_item(tmp_path: Path) -> None:
    text = "name: t\nplatform: cisco_ios\nsteps:\n  - command: show version\n  - name: nothing\n    idle_timeout: 5s\n"
    issue = only(validate_playbook(write(tmp_path, text)))
    assert issue.line == 5
    assert issue.message.startswith("step 2:")
    assert "`command:`" in issue.message and "`capture:`" in issue.message


def test_missing_key_in_nested_model(tmp_path: Path) -> None:
    text = CAP_HEAD + "    until: {duration: 2h}\n    on_match:\n      - match: Down\n"
    issue = only(validate_playbook(write(tmp_path, text)))
    assert issue.line == 9
    assert "missing required key 'run'" in issue.message


@pytest.mark.parametrize(
    ("snippet", "line", "needle"),
    [
        ("  - command: show version\n    idle_timeout: 2x\n", 5, "bad duration '2x'"),
        ("  - command: show version\n    max_time: -1h\n", 5, "bad duration"),
        ("  - command: show version\n    idle_timeout: 0s\n", 5, "greater than 0"),
        ("  - command: show version\n    mode: shell\n", 5, "'interactive' or 'exec'"),
        ("  - command: show version\n    resume: offset\n", 5, "offset_command"),
        ("  - command: show log\n    resume: offset\n    offset_command: show log\n", 6, "must contain {offset}"),
        (
            "  - capture: c\n    start: [terminal monitor]\n    stop: [undebug all]\n    until: {duration: 2h}\n"
            "    rotate:\n      size: 64XB\n",
            9,
            "bad size '64XB'",
        ),
        (
            "  - capture: c\n    start: [terminal monitor]\n    stop: [undebug all]\n    until:\n      duration: 2h\n"
            "      match: '(unclosed'\n",
            9,
            "bad regular expression",
        ),
        (
            "  - capture: c\n    start: [terminal monitor]\n    stop: [undebug all]\n    until: {match: x}\n",
            7,
            "needs a cap",
        ),
        ("  - capture: bad name\n    start: [x]\n    stop: []\n    until: {duration: 1h}\n", 4, "names a directory"),
        (
            "  - capture: c\n    start: [terminal monitor]\n    stop: [undebug all]\n    until: {duration: 2h}\n"
            "    precheck:\n      command: show processes cpu\n",
            8,
            "exactly one of fail_if_match, threshold or parsed",
        ),
        (
            "  - capture: c\n    start: [terminal monitor]\n    stop: [undebug all]\n    until: {duration: 2h}\n"
            "    precheck:\n      command: show processes cpu\n      threshold: {regex: 'cpu \\d+', max: 50}\n",
            10,
            "needs a group",
        ),
        ("  - command: show version\n    tags: oops\n", 5, "valid list"),
    ],
)
def test_value_errors_point_at_their_key(tmp_path: Path, snippet: str, line: int, needle: str) -> None:
    text = "name: t\nplatform: cisco_ios\nsteps:\n" + snippet
    issue = only(validate_playbook(write(tmp_path, text)))
    assert issue.line == line, issue.format()
    assert needle in issue.message, issue.format()


def test_unknown_platform_lists_known_ones(tmp_path: Path) -> None:
    issue = only(validate_playbook(write(tmp_path, "name: t\nplatform: cisco_io\nsteps: [show version]\n")))
    assert issue.line == 2
    assert "unknown platform 'cisco_io'" in issue.message
    for name in ("cisco_ios", "linux", "frr", "juniper_junos"):
        assert name in issue.message
    assert issue.hint == "did you mean 'cisco_ios'?"


def test_undefined_variable_has_its_line_and_known_names(tmp_path: Path) -> None:
    text = "name: t\nplatform: cisco_ios\nvars: {interface: Gi0/1}\nsteps:\n  - show version\n  - show int {{ intf }}\n"
    path = write(tmp_path, text)
    issue = only(validate_playbook(path))
    assert issue.line == 6
    assert "undefined variable 'intf'" in issue.message and "interface" in issue.message
    assert "--var" in issue.hint
    assert validate_playbook(path, overrides={"intf": "Gi0/2"}) == []
    assert load_playbook(path, {"intf": "Gi0/2"}).model.steps[1].command == "show int Gi0/2"  # type: ignore[union-attr]


def test_unsupported_variable_expression(tmp_path: Path) -> None:
    text = "name: t\nplatform: cisco_ios\nvars: {x: a}\nsteps:\n  - show {{ x | upper }}\n  - show {{ x\n"
    issues = validate_playbook(write(tmp_path, text))
    assert [i.line for i in issues] == [5, 6]
    assert "only {{ name }} is supported" in issues[0].message
    assert "unclosed" in issues[1].message


def test_variables_in_capture_commands_and_bool_values(tmp_path: Path) -> None:
    text = (
        "name: t\nplatform: cisco_ios\nvars: {intf: Gi0/1, n: 5, flag: false}\nsteps:\n  - capture: c\n"
        "    start: ['debug ip ospf adj']\n    stop: [undebug all]\n    until: {duration: 1h}\n"
        "    on_match:\n      - match: 'Down on {{ intf }}'\n"
        "        run: ['show interfaces {{ intf }}', 'show x {{ n }} {{ flag }}']\n"
    )
    model = load_playbook(write(tmp_path, text)).model
    trigger = model.steps[0].on_match[0]  # type: ignore[union-attr]
    assert trigger.match == "Down on Gi0/1"
    assert trigger.run == ["show interfaces Gi0/1", "show x 5 false"]


def test_all_errors_are_collected_in_line_order(tmp_path: Path) -> None:
    text = """\
    name: t
    platform: cisco_io
    steps:
      - command: show version
        idle_timeout: soon
      - command: show int {{ nope }}
      - capture: c
        start: [x]
        stop: [y]
        until: {durration: 1h}
    """
    issues = validate_playbook(write(tmp_path, text))
    assert [i.line for i in issues] == sorted(i.line for i in issues)
    lines = {i.line for i in issues}
    assert {2, 5, 6, 10} <= lines, [i.format() for i in issues]


def test_load_raises_playbook_error_with_first_issue(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nplatform: nope\nsteps:\n  - show version\n    \n  - command: x\n    bogus: 1\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    err = info.value
    assert isinstance(err, PlaybookInvalid)
    assert err.message.startswith(f"{path}:2:1: platform: unknown platform 'nope'")
    assert "1 more" in err.message
    assert err.issues == validate_playbook(path)
    assert err.exit_code == 3


@pytest.mark.parametrize(
    ("text", "needle"),
    [("", "empty playbook"), ("- show version\n", "must be a YAML mapping"), ("just text\n", "must be a YAML mapping")],
)
def test_not_a_mapping(tmp_path: Path, text: str, needle: str) -> None:
    issue = only(validate_playbook(write(tmp_path, text)))
    assert issue.line == 1 and needle in issue.message


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    issue = only(validate_playbook(tmp_path / "nope.yaml"))
    assert "cannot read playbook" in issue.message
    with pytest.raises(PlaybookError):
        load_playbook(tmp_path / "nope.yaml")
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"name: t\nplatform: cisco_ios\nsteps: [show caf\xe9]\n")
    issue = only(validate_playbook(bad))
    assert issue.line == 3 and "UTF-8" in issue.message


def test_steps_must_be_a_list(tmp_path: Path) -> None:
    issue = only(validate_playbook(write(tmp_path, "name: t\nplatform: cisco_ios\nsteps: show version\n")))
    assert issue.line == 3 and "valid list" in issue.message


def test_exec_mode_needs_platform_support(tmp_path: Path) -> None:
    text = "name: t\nplatform: cisco_ios\nsteps:\n  - command: show version\n    mode: exec\n"
    issue = only(validate_playbook(write(tmp_path, text)))
    assert issue.line == 5 and "no exec mode" in issue.message
    linux = "name: t\nplatform: linux\nsteps:\n  - command: uname -a\n    mode: exec\n"
    assert validate_playbook(write(tmp_path, linux, "l.yaml")) == []


def test_slow_line_buffer_needs_platform_support(tmp_path: Path) -> None:
    text = (
        "name: t\nplatform: juniper_junos\nsteps:\n  - capture: c\n    start: [monitor start messages]\n"
        "    stop: [monitor stop]\n    until: {duration: 1h}\n    slow_line: buffer\n"
    )
    issue = only(validate_playbook(write(tmp_path, text)))
    assert issue.line == 8 and "log-buffer mode" in issue.message


def test_vars_must_be_scalars_and_names(tmp_path: Path) -> None:
    text = "name: t\nplatform: cisco_ios\nvars:\n  good: 1\n  bad: [1, 2]\nsteps: [show version]\n"
    issues = validate_playbook(write(tmp_path, text))
    assert len(issues) == 1 and issues[0].line == 5
    text = "name: t\nplatform: cisco_ios\nvars:\n  1bad: x\nsteps: [show version]\n"
    assert "variable name" in only(validate_playbook(write(tmp_path, text, "v.yaml"))).message


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "playbooks").glob("*/*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.parent.name + "/" + p.name for p in SHIPPED])
def test_shipped_playbooks_validate(path: Path) -> None:
    assert validate_playbook(path) == []
    loaded = load_playbook(path)
    assert loaded.model.platform == path.parent.name


def test_the_shipped_playbooks_are_there() -> None:
    names = {f"{p.parent.name}/{p.name}" for p in SHIPPED}
    assert {
        "cisco_ios/tac-baseline.yaml",
        "cisco_ios/ospf-debug-capture.yaml",
        "linux/host-baseline.yaml",
        "frr/routing-baseline.yaml",
    } <= names
