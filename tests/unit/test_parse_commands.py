"""Command resolution for parsing: the platform's abbreviations, ntc-templates' index, full matches only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.parse.commands import ntc_platforms, resolve
from collector.parse.ntc_index import find_template
from collector.parse.outcome import NoParser


def template(platform: str, command: str) -> str:
    return find_template(platform, resolve(platform, command).text).templates[0]


@pytest.mark.parametrize("command", ["sh ip int br", "show ip interface brief", "SH  IP   INT BR", "sho ip inte bri",
                                     "show ip int brief", " sh ip int br "])
def test_abbreviations_resolve_like_ios(command: str) -> None:
    assert template("cisco_ios", command) == "cisco_ios_show_ip_interface_brief.textfsm"


def test_canonical_command_is_written_out() -> None:
    match = find_template("cisco_ios", resolve("cisco_ios", "sh ip int br").text)
    assert match.canonical == "show ip interface brief"
    assert find_template("cisco_ios", resolve("cisco_ios", "sh proc cpu").text).canonical == "show processes cpu"


def test_platform_extends_chain_finds_the_parent_templates() -> None:
    """cisco_xe has no templates of its own in ntc-templates: it `extends: cisco_ios`."""
    assert ntc_platforms("cisco_xe") == ("cisco_xe", "cisco_ios")
    match = find_template("cisco_xe", resolve("cisco_xe", "sh ver").text)
    assert match.platform == "cisco_ios" and match.templates == ("cisco_ios_show_version.textfsm",)


def test_netmiko_names_that_ntc_spells_differently() -> None:
    assert ntc_platforms("huawei")[0] == "huawei_vrp"
    assert ntc_platforms("cisco_wlc")[0] == "cisco_wlc_ssh"


def test_the_verb_is_expanded_from_the_platform_data_only_where_it_abbreviates() -> None:
    assert resolve("cisco_ios", "sh version").text == "show version"
    assert resolve("linux", "ip a").text == "ip a"  # a shell: no abbreviations, case kept
    assert resolve("linux", "IP A").text == "IP A"
    assert resolve("cisco_ios", "SHOW Version").text == "show version"  # IOS is not case-sensitive


def test_filters_are_split_off() -> None:
    cmd = resolve("cisco_ios", "show ip int br | include up")
    assert cmd.text == "show ip int br" and cmd.filtered == "include up"


@pytest.mark.parametrize("command", ["show ip route 10.0.0.0", "show processes cpu sorted", "show version detail",
                                     "show ip int br extra"])
def test_a_longer_command_is_not_parsed_with_a_shorter_commands_template(command: str) -> None:
    with pytest.raises(NoParser):
        template("cisco_ios", command)


def test_an_optional_last_word_needs_no_trailing_space() -> None:
    """ntc's `ip a[[ddress]] [[show]]` writes the space before the optional word into the regex."""
    assert template("linux", "ip addr") == "linux_ip_address_show.textfsm"
    assert template("linux", "ip address show") == "linux_ip_address_show.textfsm"


def _prefixes(word: str, shortest: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=shortest, max_value=len(word)).map(lambda n: word[:n])


@settings(max_examples=150, deadline=None)
@given(st.tuples(_prefixes("show", 2), _prefixes("ip", 2), _prefixes("interface", 3), _prefixes("brief", 2)),
       st.lists(st.sampled_from([" ", "  ", "\t"]), min_size=3, max_size=3))
def test_every_abbreviation_ios_accepts_finds_the_same_template(words: tuple[str, ...], gaps: list[str]) -> None:
    command = words[0] + gaps[0] + words[1] + gaps[1] + words[2] + gaps[2] + words[3]
    assert template("cisco_ios", command) == "cisco_ios_show_ip_interface_brief.textfsm"


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/.-| ", min_size=1, max_size=40))
def test_any_command_either_resolves_or_says_why(command: str) -> None:
    cmd = resolve("cisco_ios", command)
    try:
        match = find_template("cisco_ios", cmd.text)
    except NoParser as exc:
        assert "no ntc-templates template" in str(exc)
    else:
        assert match.templates and all(t.endswith(".textfsm") for t in match.templates)
