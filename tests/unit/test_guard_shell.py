"""Shell guard (linux): strict tokeniser, getopt-exact option parsing, and generated shell-syntax insertions."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.platforms import load_platform
from collector.playbook import check_command
from collector.playbook.shell_lex import ShellSyntax, Word, split_pipeline
from collector.playbook.shell_options import OptionRefused, parse_call
from tests.helpers.probes import load_probes

LINUX = load_platform("linux")
PROBES = load_probes()
ALLOWED = [c for p, e, c in PROBES if p == "linux" and e == "allow"]
# characters that are shell syntax wherever they stand outside quotes (or that a line editor acts on)
OUTSIDE_QUOTES = [";", "&", "#", "$", "`", "{", "}", "(", ")", "<", ">", "!", "^", "\t", "\n", "\r", "é", "\x00"]
INSIDE_DOUBLE = ["$", "`", "!", "\t", "\n", "é", "\x00"]
INSIDE_SINGLE = ["\t", "\n", "é", "\x00"]


def words(line: str) -> list[list[str]]:
    return [[w.text for w in stage] for stage in split_pipeline(line)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ls -la /tmp", [["ls", "-la", "/tmp"]]),
        ("a 'b c' \"d e\" f\\ g", [["a", "b c", "d e", "f g"]]),
        ("grep 'a|b' x | wc -l", [["grep", "a|b", "x"], ["wc", "-l"]]),
        ('echo "a\\"b" "a\\x"', [["echo", 'a"b', "a\\x"]]),
        ("c'a't", [["cat"]]),
    ],
)
def test_tokeniser_decodes_like_bash(line: str, expected: list[list[str]]) -> None:
    assert words(line) == expected


@pytest.mark.parametrize(
    ("line", "assignment"),
    [("X=1", True), ("a[0]=x", True), ("X+=1", True), ("'X'=1", False), ("X'=1'", False), ("--o=x", False),
     ("./X=1", False)],
)
def test_assignment_shape(line: str, assignment: bool) -> None:
    assert split_pipeline(line)[0][0].assignment is assignment


def test_globs_are_marked_only_when_unquoted() -> None:
    unquoted, quoted, head = split_pipeline("ls /var/*.log '*.log' *x")[0][1:]
    assert unquoted.glob and unquoted.literal_head
    assert not quoted.glob
    assert head.glob and not head.literal_head


def test_tokeniser_refusals_name_the_column() -> None:
    with pytest.raises(ShellSyntax, match="column 7"):
        split_pipeline("uptime;reboot")


# --------------------------------------------------------------------------- getopt_long, as the programs parse


def parse(program: str, line: str) -> list[tuple[str, str | None]]:
    spec = LINUX.read_only.programs[program]
    return parse_call(program, spec, [Word(w) for w in line.split()]).options


def test_short_clusters_split_and_arguments_are_consumed() -> None:
    assert parse("arp", "-an") == [("a", None), ("n", None)]
    assert parse("sort", "-nk2 -t : -S1M") == [("n", None), ("k", "2"), ("t", ":"), ("S", "1M")]
    assert parse("sort", "--key=2 --field-separator :") == [("key", "2"), ("field-separator", ":")]
    with pytest.raises(OptionRefused, match="-d"):
        parse("arp", "-nd")
    for line in ("-o FILE", "-oFILE", "-uoFILE", "--output=FILE", "--output FILE", "--outp=FILE", "--o FILE"):
        with pytest.raises(OptionRefused, match="writes the output to a file"):
            parse("sort", line)


def test_option_arguments_are_not_options() -> None:
    """`sort -t -o`: the -o is the separator, but an argument that starts with '-' is refused (say --opt=ARG)."""
    with pytest.raises(OptionRefused, match="starts with '-'"):
        parse("sort", "-t -o")
    assert parse("tail", "-n -5") == [("n", "-5")]


def test_options_after_operands_are_options() -> None:
    """GNU getopt permutes: `uniq /etc/hostname -c d/w3` has two operands and the -c flag."""
    verdict = check_command("uniq /etc/hostname -c d/w3", LINUX)
    assert not verdict.allowed and "at most 1" in verdict.reason


def getopt_programs() -> list[str]:
    return sorted(n for n, s in LINUX.read_only.programs.items() if s.style == "getopt")


@pytest.mark.parametrize("program", getopt_programs())
def test_every_unique_prefix_resolves_like_getopt_long(program: str) -> None:
    """A unique prefix of any known long option means that option: refused ones stay refused, allowed ones pass."""
    spec = LINUX.read_only.programs[program]
    known = spec.known_long()
    allowed = set(spec.long + spec.long_arg + spec.long_optional)
    for option in known:
        for k in range(1, len(option) + 1):
            prefix = option[:k]
            candidates = [o for o in known if o.startswith(prefix)]
            if prefix != option and prefix in known:
                continue  # an exact match of another option wins, as in getopt_long
            if prefix != option and len(candidates) > 1:
                with pytest.raises(OptionRefused):
                    parse(program, f"--{prefix}=x")
                continue
            typed = f"--{prefix}" + ("=1" if option in spec.long_arg else "")
            if option in allowed:
                assert dict(parse(program, typed)).keys() == {option}, typed
            else:
                with pytest.raises(OptionRefused):
                    parse(program, typed)


BUILTINS = {"echo", "printf", "true", "false", "pwd"}


@pytest.mark.parametrize("program", [p for p in getopt_programs() if p not in BUILTINS and shutil.which(p)])
def test_spec_knows_every_long_option_the_installed_program_documents(program: str) -> None:
    """Abbreviations resolve against the program's whole option table, so the spec must name all of it."""
    done = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
                          check=False)
    documented = set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9_-]*)", done.stdout + done.stderr))
    assert documented <= set(LINUX.read_only.programs[program].known_long())


# --------------------------------------------------------------------------- generated shell-syntax insertions


def quote_states(line: str) -> list[str]:
    """For each insertion point 0..len(line): none, single, double or escaped (what bash would be reading)."""
    states, state = [], "none"
    escaped = False
    for ch in line:
        states.append("escaped" if escaped else state)
        if escaped:
            escaped = False
        elif state == "none" and ch == "\\" or state == "double" and ch == "\\":
            escaped = True
        elif state == "none" and ch in "'\"":
            state = "single" if ch == "'" else "double"
        elif (state, ch) in (("single", "'"), ("double", '"')):
            state = "none"
    states.append("escaped" if escaped else state)
    return states


def must_refuse(state: str) -> list[str]:
    return {"none": OUTSIDE_QUOTES, "double": INSIDE_DOUBLE, "single": INSIDE_SINGLE}.get(state, [])


@given(command=st.sampled_from(ALLOWED), data=st.data())
@settings(max_examples=400, deadline=None)
def test_shell_syntax_inserted_anywhere_is_refused(command: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(command)))
    chars = must_refuse(quote_states(command)[position])
    if not chars:
        return
    char = data.draw(st.sampled_from(chars))
    mutated = command[:position] + char + command[position:]
    assert not check_command(mutated, LINUX).allowed, repr(mutated)


def test_shell_syntax_inserted_at_every_position_is_refused() -> None:
    tried = 0
    for command in ALLOWED:
        for position, state in enumerate(quote_states(command)):
            for char in must_refuse(state):
                mutated = command[:position] + char + command[position:]
                assert not check_command(mutated, LINUX).allowed, repr(mutated)
                tried += 1
    assert tried > 10_000


def test_every_allowed_probe_is_really_allowed_and_quote_states_are_sane() -> None:
    assert len(ALLOWED) > 150
    assert quote_states("a 'b' \"c\\\"\" d")[3] == "single" and quote_states("a \\; b")[3] == "escaped"


@given(st.text(alphabet=st.sampled_from(list("ab -|;&#$`{}()<>!^'\"\\*?[]=~/.:\t\né\x00")), max_size=40))
@settings(max_examples=500, deadline=None)
def test_any_text_gets_a_verdict(text: str) -> None:
    for name in ("linux", "cisco_ios", "arista_eos", "cisco_nxos", "juniper_junos", "frr"):
        verdict = check_command(text, load_platform(name))
        assert verdict.rule and "\n" not in verdict.reason


@given(command=st.sampled_from(["show version", "show ip route", "show run | include x", "show logging | count"]),
       data=st.data())
@settings(max_examples=200, deadline=None)
def test_cli_chains_and_redirects_inserted_anywhere_are_refused(command: str, data: st.DataObject) -> None:
    """NX-OS and EOS: `;`, backquotes and `$(` anywhere; every IOS-like CLI: `>` before the first `|`."""
    position = data.draw(st.integers(0, len(command)))
    for name in ("cisco_nxos", "arista_eos"):
        for char in (";", "`", "$("):
            mutated = command[:position] + char + command[position:]
            assert not check_command(mutated, load_platform(name)).allowed, (name, mutated)
    if "|" not in command[:position]:
        for name in ("cisco_ios", "cisco_nxos", "arista_eos", "frr"):
            mutated = command[:position] + ">flash:x" + command[position:]
            assert not check_command(mutated, load_platform(name)).allowed, (name, mutated)


def test_vtysh_commands_pass_the_frr_guard() -> None:
    ok = check_command("vtysh -c 'show ip bgp summary' -c 'show run'", LINUX)
    assert ok.allowed
    bad = check_command("vtysh -c 'show version' -c 'configure terminal'", LINUX)
    assert not bad.allowed and "frr refuses" in bad.reason and "configure" in bad.reason
    debug = check_command("vtysh -c 'debug zebra events'", LINUX)
    assert not debug.allowed and "debug" in debug.reason


def test_refused_shell_command_runs_with_allow_changes() -> None:
    verdict = check_command("sort -o /tmp/x /etc/hosts", LINUX, allow_changes=True)
    assert verdict.allowed and verdict.reason.startswith("allowed by allow_changes")
