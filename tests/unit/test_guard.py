"""Read-only guard: rule names and reasons, allow_changes, and the playbook-level check.

The must-refuse / must-allow rows of every platform live in tests/corpus/guard-probes.yaml (test_guard_probes.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import GuardRefused
from collector.platforms import device_platforms, load_platform
from collector.playbook import CaptureStep, check_command, check_playbook, load_playbook
from collector.playbook.guard import PlaybookRefused, changes_allowed, iter_commands


@pytest.fixture(scope="module")
def ios():  # type: ignore[no-untyped-def]
    return load_platform("cisco_ios")


@pytest.mark.parametrize("name", ["cisco_ios", "cisco_xe"])
@pytest.mark.parametrize(
    ("command", "rule", "reason"),
    [
        ("configure terminal", "verb:configure", "configuration mode"),
        ("conf t", "verb:configure", "'conf' abbreviates 'configure'"),
        ("wr", "verb:write", "'wr' abbreviates 'write'"),
        ("reload", "verb:reload", "restarts the device"),
        ("show run | redirect flash:x", "pipe:redirect", "writes the output to a file"),
        ("debug all", "rules[0]", "debug all"),
        ("de", "verb:de", "ambiguous"),
        ("frobnicate", "verb:unknown", "not on"),
    ],
)
def test_refusal_names_the_rule_and_reason(name: str, command: str, rule: str, reason: str) -> None:
    verdict = check_command(command, load_platform(name))
    assert (verdict.allowed, verdict.rule) == (False, rule)
    assert reason in verdict.reason


def test_allow_changes_turns_refusals_into_noted_allowances(ios) -> None:  # type: ignore[no-untyped-def]
    verdict = check_command("configure terminal", ios, allow_changes=True)
    assert verdict.allowed and verdict.rule == "verb:configure"
    assert verdict.reason.startswith("allowed by allow_changes")


@pytest.mark.parametrize("command", ["show version\nreload", "show version\r", "show\x00version", "sh ver\x1b[A"])
def test_control_characters_are_always_refused(ios, command: str) -> None:  # type: ignore[no-untyped-def]
    for allow in (False, True):
        verdict = check_command(command, ios, allow_changes=allow)
        assert not verdict.allowed and verdict.rule == "control-characters" and not verdict.overridable


# --------------------------------------------------------------------------- check_playbook


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pb.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


CHANGES = """\
name: t
platform: cisco_ios
allow_changes: {pb}
steps:
  - command: show version
  - command: configure terminal
    name: enter config
    allow_changes: {step}
"""


def test_check_playbook_names_step_command_line_and_rule(tmp_path: Path, ios) -> None:  # type: ignore[no-untyped-def]
    loaded = load_playbook(write(tmp_path, CHANGES.format(pb="false", step="false")))
    with pytest.raises(GuardRefused) as info:
        check_playbook(loaded, ios, allow_changes_cli=False)
    err = info.value
    assert isinstance(err, PlaybookRefused)
    msg = err.message
    assert f"{loaded.path}:6" in msg
    assert "step 2 'enter config'" in msg
    assert "`configure terminal` refused" in msg
    assert "configuration mode" in msg and "verb:configure" in msg
    assert "\n" not in msg
    assert err.exit_code == 4
    assert len(err.refusals) == 1


@pytest.mark.parametrize(
    ("pb", "step", "cli", "runs"),
    [
        ("false", "false", False, False),
        ("false", "false", True, False),
        ("true", "false", False, False),
        ("true", "false", True, True),
        ("false", "true", False, False),
        ("false", "true", True, True),
    ],
)
def test_changes_need_playbook_and_cli(tmp_path: Path, ios, pb: str, step: str, cli: bool, runs: bool) -> None:  # type: ignore[no-untyped-def]
    loaded = load_playbook(write(tmp_path, CHANGES.format(pb=pb, step=step)))
    if runs:
        check_playbook(loaded, ios, allow_changes_cli=cli)
        assert changes_allowed(loaded.model, loaded.model.steps[1], cli)
        return
    with pytest.raises(GuardRefused) as info:
        check_playbook(loaded, ios, allow_changes_cli=cli)
    hint = info.value.hint
    if cli:
        assert "allow_changes: true" in hint
    elif pb == "true" or step == "true":
        assert "--allow-changes" in hint


def test_every_capture_command_is_checked(tmp_path: Path, ios) -> None:  # type: ignore[no-untyped-def]
    text = """\
    name: t
    platform: cisco_ios
    steps:
      - capture: c
        precheck: {command: 'clear counters', fail_if_match: x}
        start: [terminal monitor, debug all]
        stop: [undebug all, 'write memory']
        until: {duration: 1h}
        on_match:
          - match: Down
            run: [show ip ospf neighbor, reload]
    cleanup:
      - command: show logging | tee flash:x
    """
    loaded = load_playbook(write(tmp_path, text))
    roles = [(c.role, c.command) for c in iter_commands(loaded.model)]
    assert ("precheck", "clear counters") in roles and ("on_match", "reload") in roles
    with pytest.raises(PlaybookRefused) as info:
        check_playbook(loaded, ios)
    refused = {(r.command, r.step) for r in info.value.refusals}
    assert refused == {
        ("clear counters", "step 1 capture 'c' (precheck)"),
        ("debug all", "step 1 capture 'c' (start)"),
        ("write memory", "step 1 capture 'c' (stop)"),
        ("reload", "step 1 capture 'c' (on_match)"),
        ("show logging | tee flash:x", "cleanup step 1"),
    }
    assert "(and 4 more refused)" in info.value.message


def test_offset_command_is_checked(tmp_path: Path, ios) -> None:  # type: ignore[no-untyped-def]
    text = """\
    name: t
    platform: cisco_ios
    steps:
      - command: show logging
        resume: offset
        offset_command: 'show logging | redirect flash:{offset}'
    """
    with pytest.raises(PlaybookRefused, match="offset_command"):
        check_playbook(load_playbook(write(tmp_path, text)), ios)


def test_variables_cannot_smuggle_commands(tmp_path: Path, ios) -> None:  # type: ignore[no-untyped-def]
    text = "name: t\nplatform: cisco_ios\nvars: {intf: Gi0/1}\nsteps:\n  - show interfaces {{ intf }}\n"
    path = write(tmp_path, text)
    check_playbook(load_playbook(path), ios)
    with pytest.raises(PlaybookRefused, match="one line"):
        check_playbook(load_playbook(path, {"intf": "Gi0/1 | redirect flash:x\x00"}), ios, allow_changes_cli=True)
    with pytest.raises(PlaybookRefused, match="redirect"):
        check_playbook(load_playbook(path, {"intf": "Gi0/1 | redirect flash:x"}), ios)


PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
SHIPPED = sorted(PLAYBOOKS.rglob("*.yaml"))  # the library under <platform>/tac/ too


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(PLAYBOOKS)) for p in SHIPPED])
def test_shipped_playbooks_pass_the_guard(path: Path) -> None:
    loaded = load_playbook(path)
    check_playbook(loaded, load_platform(loaded.model.platform), allow_changes_cli=False)


CLI_PLATFORMS = [n for n in device_platforms() if n != "linux"]  # every network CLI (linux: the shell rules)


@pytest.mark.parametrize("name", CLI_PLATFORMS)
def test_every_abbreviation_of_a_refused_word_is_refused(name: str) -> None:
    """Exhaustive: any prefix of a refused verb (or pipe) is refused unless it is itself a read-only word."""
    platform = load_platform(name)
    table = platform.read_only
    checked = 0
    for verb in table.verbs.refuse:
        for k in range(1, len(verb) + 1):
            prefix = verb[:k]
            if prefix in table.verbs.allow:
                continue
            verdict = check_command(f"{prefix} x y", platform)
            assert not verdict.allowed, (prefix, verdict)
            checked += 1
    for pipe in table.pipes.refuse:
        for k in range(1, len(pipe) + 1):
            if pipe[:k] in table.pipes.allow:
                continue
            verdict = check_command(f"show x | {pipe[:k]} flash:y", platform)
            assert not verdict.allowed, (pipe[:k], verdict)
            checked += 1
    assert checked > 20


SLOW = """\
name: t
platform: cisco_ios
allow_changes: {pb}
steps:
  - capture: c
    start: [terminal monitor, debug ip ospf adj]
    stop: [undebug all]
    until: {{duration: 1h}}
    slow_line: {mode}
"""


def test_slow_line_buffer_is_a_change(tmp_path: Path, ios) -> None:  # type: ignore[no-untyped-def]
    from collector.playbook.guard import slow_line_allowed

    loaded = load_playbook(write(tmp_path, SLOW.format(pb="false", mode="buffer")))
    with pytest.raises(PlaybookRefused) as info:
        check_playbook(loaded, ios, allow_changes_cli=True)
    assert "(slow_line)" in info.value.message and "configure terminal" in info.value.message
    allowed = load_playbook(write(tmp_path, SLOW.format(pb="true", mode="buffer")))
    check_playbook(allowed, ios, allow_changes_cli=True)
    step = allowed.model.steps[0]
    assert isinstance(step, CaptureStep)
    assert slow_line_allowed(allowed.model, step, ios, True)
    assert not slow_line_allowed(allowed.model, step, ios, False)
    auto = load_playbook(write(tmp_path, SLOW.format(pb="false", mode="auto")))
    check_playbook(auto, ios)  # auto: decided at run time, streaming when changes are not allowed
    assert not slow_line_allowed(auto.model, auto.model.steps[0], ios, True)  # type: ignore[arg-type]


@given(
    command=st.sampled_from(["configure terminal", "conf t", "reload", "write memory", "copy run start", "debug all"]),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_case_and_spacing_do_not_bypass_the_guard(command: str, data: st.DataObject) -> None:
    ios = load_platform("cisco_ios")
    words = command.split()
    cased = [data.draw(st.sampled_from([w, w.upper(), w.capitalize()])) for w in words]
    gaps = [data.draw(st.sampled_from([" ", "  ", "\t", " \t "])) for _ in words]
    lead = data.draw(st.sampled_from(["", " ", "\t"]))
    text = lead + "".join(w + g for w, g in zip(cased, gaps, strict=True))
    assert not check_command(text, ios).allowed, repr(text)
