"""Platforms as data: every YAML loads and validates, prompts/paging/errors match real device text."""

from __future__ import annotations

import re

import pytest

from collector.errors import PlaybookError
from collector.platforms import Platform, PlatformError, list_platforms, load_platform
from collector.playbook import check_command

REQUIRED = ["cisco_ios", "cisco_xe", "cisco_nxos", "juniper_junos", "arista_eos", "linux", "frr"]


def test_every_required_platform_is_bundled() -> None:
    assert set(REQUIRED) <= set(list_platforms())


@pytest.mark.parametrize("name", list_platforms())
def test_platform_loads_and_is_consistent(name: str) -> None:
    platform = load_platform(name)
    assert isinstance(platform, Platform)
    assert platform.name == name
    assert platform.error_markers, "every platform needs error markers"
    assert platform.return_char in ("\n", "\r", "\r\n")
    for pattern in [platform.prompt_pattern, *platform.paging_patterns, *platform.session_state_commands]:
        re.compile(pattern)
    # what collector itself sends must pass the platform's own guard
    own = [*platform.debug_off_commands]
    if not platform.read_only.shell:
        own += platform.setup_commands
    for command in own:
        verdict = check_command(command, platform)
        assert verdict.allowed, (command, verdict)


def test_load_platform_is_cached() -> None:
    assert load_platform("cisco_ios") is load_platform("cisco_ios")


def test_unknown_platform_lists_the_known_ones() -> None:
    with pytest.raises(PlaybookError) as info:
        load_platform("cisco_io")
    err = info.value
    assert isinstance(err, PlatformError)
    assert "unknown platform 'cisco_io'" in err.message
    assert all(n in err.message for n in REQUIRED)
    assert "did you mean 'cisco_ios'" in err.hint
    with pytest.raises(PlatformError):
        load_platform("../etc/passwd")


def test_cisco_xe_extends_cisco_ios() -> None:
    ios, xe = load_platform("cisco_ios"), load_platform("cisco_xe")
    assert xe.name == "cisco_xe" and xe.description != ios.description
    assert xe.read_only == ios.read_only and xe.prompt_pattern == ios.prompt_pattern


PROMPTS = {
    "cisco_ios": (["R1>", "R1#", "R1(config)#", "R1(config-if)#", "core-sw.lab_1#"], ["Router uptime is 3 weeks", ""]),
    "cisco_nxos": (["n9k-1#", "n9k-1(config)#"], ["Cisco Nexus Operating System (NX-OS) Software"]),
    "arista_eos": (["leaf1>", "leaf1#", "leaf1(config-if-Et1)#"], ["Arista vEOS"]),
    "juniper_junos": (["admin@mx1>", "admin@mx1#", "{master:0}\nadmin@mx1>"], ["Hostname: mx1"]),
    "linux": (
        ["admin@labhost:~$ ", "[root@labhost ~]# ", "labhost$", "$ ", "bash-5.2$ "],
        ["Linux labhost 6.1.0 x86_64 GNU/Linux", "#", "# comment"],
    ),
    "frr": (["frr1#", "frr1(config)#", "frr1(config-router)#"], ["FRRouting 9.1 (frr1)."]),
}


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_prompt_pattern(name: str) -> None:
    platform = load_platform(name)
    yes, no = PROMPTS[name]
    rx = re.compile(platform.prompt_pattern, re.MULTILINE)
    for prompt in yes:
        assert rx.search(prompt), (name, prompt)
    for line in no:
        assert not rx.search(line), (name, line)


def test_ios_mode_patterns() -> None:
    ios = load_platform("cisco_ios")
    assert ios.privileged_pattern and ios.config_pattern
    priv, conf = re.compile(ios.privileged_pattern), re.compile(ios.config_pattern)
    assert priv.search("R1#") and not priv.search("R1>") and not priv.search("R1(config)#")
    assert conf.search("R1(config-router)#") and not conf.search("R1#")
    assert ios.enable is not None and ios.enable.command == "enable"
    assert re.search(ios.enable.password_prompt, "Password: ")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cisco_ios", " --More-- "),
        ("cisco_ios", "--More--"),
        ("cisco_ios", "-- More --"),
        ("cisco_nxos", " --More-- "),
        ("arista_eos", " --More-- "),
        ("juniper_junos", "---(more)---"),
        ("juniper_junos", "---(more 42%)---"),
        ("linux", "lines 1-42"),
        ("frr", "lines 1-24/200"),
    ],
)
def test_paging_patterns(name: str, text: str) -> None:
    platform = load_platform(name)
    assert any(re.search(p, text) for p in platform.paging_patterns)
    assert platform.paging_response == " "


def test_error_markers_and_helpers() -> None:
    ios = load_platform("cisco_ios")
    out = "show foo\n         ^\n% Invalid input detected at '^' marker.\n"
    assert ios.error_in(out) == "% Invalid input"
    assert ios.error_in("all good") is None
    for marker in ("% Incomplete command", "% Ambiguous command", "% Unknown command"):
        assert marker in ios.error_markers
    assert load_platform("linux").error_in("bash: foo: command not found") == "command not found"
    assert load_platform("juniper_junos").error_in("syntax error, expecting <command>.")
    assert ios.debug_off_commands == ["undebug all", "terminal no monitor"]
    assert ios.setup_commands[:2] == ["terminal length 0", "terminal width 511"]
    assert ios.is_session_state("terminal monitor") and ios.is_session_state("term mon")
    assert not ios.is_session_state("show version")
    assert load_platform("frr").setup_commands == ["terminal length 0"]


def test_exec_support_and_return_char() -> None:
    assert load_platform("linux").supports_exec is True
    assert load_platform("cisco_ios").supports_exec is False


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("username", "Username: "),
        ("username", "labhost login: "),
        ("password", "Password: "),
        ("otp", "Enter one-time password: "),
        ("otp", "Verification code: "),
        ("login_failed", "% Login invalid"),
        ("login_failed", "% Authentication failed"),
        ("press_return", "Press RETURN to get started!"),
        ("initial_config_dialog", "Would you like to enter the initial configuration dialog? [yes/no]: "),
        ("rommon", "rommon 1 >"),
    ],
)
def test_ios_login_patterns(field: str, text: str) -> None:
    pattern = getattr(load_platform("cisco_ios").login, field)
    assert pattern and re.search(pattern, text, re.MULTILINE)


def test_ios_confirm_pattern() -> None:
    pattern = load_platform("cisco_ios").confirm_pattern
    assert pattern and re.search(pattern, "Proceed with reload? [confirm]", re.MULTILINE)


def test_slow_line_is_data() -> None:
    ios = load_platform("cisco_ios")
    assert ios.slow_line is not None and ios.slow_line.config_mode
    assert "logging buffered 512000 debugging" in ios.slow_line.enable
    assert "no logging console" in ios.slow_line.enable
    assert ios.slow_line.poll == "show logging"
    assert check_command(ios.slow_line.poll, ios).allowed
    assert load_platform("juniper_junos").slow_line is None


def test_custom_platform_file_can_extend_a_bundled_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from collector.platforms import load_platform_file

    path = tmp_path / "my_ios.yaml"
    path.write_text("extends: cisco_ios\nname: my_ios\nsetup_commands: [terminal length 0]\n", encoding="utf-8")
    platform = load_platform_file(path)
    assert platform.name == "my_ios" and platform.setup_commands == ["terminal length 0"]
    assert platform.read_only == load_platform("cisco_ios").read_only
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nprompt_pattern: '('\n", encoding="utf-8")
    with pytest.raises(PlatformError, match="prompt_pattern"):
        load_platform_file(bad)
    typo = tmp_path / "typo.yaml"
    typo.write_text("name: t\nprompt_pattern: 'x#'\nerror_marker: []\n", encoding="utf-8")
    with pytest.raises(PlatformError, match="error_marker"):
        load_platform_file(typo)
