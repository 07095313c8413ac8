"""One definition of debug on/off per platform (`debug:` in the platform file), and the guard agrees with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.platforms import PlatformError, load_platform, load_platform_file
from collector.playbook import check_command

DEBUG_PLATFORMS = ["cisco_ios", "cisco_xe", "cisco_nxos", "arista_eos", "frr"]


@pytest.mark.parametrize(
    ("platform", "command", "change"),
    [
        ("cisco_ios", "debu ip packet", "on"),
        ("cisco_ios", "deb ip ospf adj", "on"),
        ("cisco_ios", "DEBUG  ip ospf adj", "on"),
        ("cisco_ios", "debug\tip ospf adj", "on"),
        ("cisco_ios", "un all", "off"),
        ("cisco_ios", "u all", "off"),
        ("cisco_ios", "undeb all", "off"),
        ("cisco_ios", "undebug ip ospf adj", "off"),
        ("cisco_ios", "no deb all", "off"),
        ("cisco_ios", "no debug ip ospf adj", "off"),
        ("cisco_ios", "show debugging", None),
        ("cisco_ios", "terminal monitor", None),
        ("cisco_ios", "de ip ospf", None),  # ambiguous with delete: the CLI refuses it, and so does the guard
        ("arista_eos", "no deb all", "off"),
        ("arista_eos", "debu ip ospf", "on"),
        ("cisco_nxos", "u all", "off"),
        ("frr", "de zebra events", "on"),
        ("frr", "debug bgp updates", "on"),
        ("frr", "no deb zebra events", "off"),
        ("juniper_junos", "debug x", None),
        ("linux", "debug x", None),
    ],
)
def test_debug_change_knows_every_abbreviation(platform: str, command: str, change: str | None) -> None:
    assert load_platform(platform).debug_change(command) == change


def test_debug_off_for_platforms_with_an_all_off_command() -> None:
    ios = load_platform("cisco_ios")
    assert ios.debug_off_for(["debu ip packet"]) == ["undebug all", "terminal no monitor"]
    assert load_platform("arista_eos").debug_off_for([]) == ["no debug all", "terminal no monitor"]


def test_frr_negates_each_debug_command_that_was_switched_on() -> None:
    frr = load_platform("frr")
    switched_on = ["debug zebra events", "show ip route", "de bgp updates", "debug zebra events"]
    assert frr.debug_off_for(switched_on) == ["no debug zebra events", "no debug bgp updates"]  # last on, first off
    assert frr.debug_off_commands == []  # FRR has no all-off command
    for command in frr.debug_off_for(["debug zebra events"]):
        assert check_command(command, frr).allowed and frr.debug_change(command) == "off"


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("cisco_ios", ["undebug all", "terminal no monitor"]),
        ("cisco_xe", ["undebug all", "terminal no monitor"]),
        ("cisco_nxos", ["undebug all", "terminal no monitor"]),
        ("arista_eos", ["no debug all", "terminal no monitor"]),
        ("frr", []),
        ("juniper_junos", []),
        ("linux", []),
    ],
)
def test_debug_off_commands_keep_their_values(platform: str, expected: list[str]) -> None:
    """The old field is now derived from the debug section (all_off + monitor_off): same values as before."""
    assert load_platform(platform).debug_off_commands == expected


def test_legacy_debug_off_commands_key_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("extends: cisco_ios\nname: mine\ndebug_off_commands: [undebug all]\n", encoding="utf-8")
    platform = load_platform_file(path)
    assert platform.debug_off_commands == ["undebug all"]
    assert platform.debug_change("debu ip packet") == "on"  # the parent's patterns stay


def test_a_bad_debug_pattern_is_a_platform_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("extends: cisco_ios\nname: bad\ndebug: {on: ['deb[u']}\n", encoding="utf-8")
    with pytest.raises(PlatformError, match="debug"):
        load_platform_file(path)


def words_and_prefixes(word: str) -> list[str]:
    return [word[:k] for k in range(1, len(word) + 1)]


@pytest.mark.parametrize("name", DEBUG_PLATFORMS)
def test_the_guard_and_the_debug_definition_agree(name: str) -> None:
    """Whatever debug abbreviation the guard lets through, the debug definition classifies (so cleanup sends off)."""
    platform = load_platform(name)
    checked = 0
    for prefix in words_and_prefixes("debug"):
        command = f"{prefix} ip ospf adj"
        if check_command(command, platform).allowed:
            assert platform.debug_change(command) == "on", command
            checked += 1
    for command in [f"{p} all" for p in words_and_prefixes("undebug")] + [
        f"no {p} all" for p in words_and_prefixes("debug")
    ]:
        change = platform.debug_change(command)
        if change == "off":
            assert check_command(command, platform).allowed, command  # switching debug off is always read-only
            checked += 1
    assert checked >= 3


@given(
    name=st.sampled_from(DEBUG_PLATFORMS),
    verb=st.sampled_from(words_and_prefixes("debug")),
    rest=st.lists(st.sampled_from(["ip", "ospf", "adj", "zebra", "events", "packet", "bgp", "aaa"]), min_size=1,
                  max_size=3),
    upper=st.booleans(),
    gap=st.sampled_from([" ", "  ", "\t"]),
)
@settings(max_examples=300, deadline=None)
def test_every_debug_the_guard_allows_is_seen_as_on(
    name: str, verb: str, rest: list[str], upper: bool, gap: str
) -> None:
    platform = load_platform(name)
    command = gap.join([verb.upper() if upper else verb, *rest])
    if check_command(command, platform).allowed:
        assert platform.debug_change(command) == "on", command
