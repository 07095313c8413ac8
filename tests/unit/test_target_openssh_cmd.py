"""URL forms of openssh:// and cmd://: parsing, the display form round-trips (resume), hostile names refused."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import UsageError
from collector.target import Target, argv_query, parse_target


@pytest.mark.parametrize(("url", "argv"), [
    ("cmd://?argv=virsh+console+vm-r1", ("virsh", "console", "vm-r1")),
    ("cmd://?argv=docker+exec+-it&arg=my box&argv=sh", ("docker", "exec", "-it", "my box", "sh")),
    ("cmd://?arg=cu&arg=-l&arg=/dev/ttyUSB0", ("cu", "-l", "/dev/ttyUSB0")),
    ("cmd://?argv=echo&arg=a%26b%23c%2Bd", ("echo", "a&b#c+d")),
    ("cmd:///?argv=conserver+-c", ("conserver", "-c")),
    ("cmd://?argv=kubectl&arg=", ("kubectl", "")),
])
def test_cmd_forms(url: str, argv: tuple[str, ...]) -> None:
    target = parse_target(url)
    assert target.scheme == "cmd" and target.argv == argv and target.host == ""
    assert parse_target(target.display()) == target


def test_cmd_options_and_display() -> None:
    t = parse_target("cmd://?argv=socat+-+/dev/pts/3,raw,echo=0&tty=raw&line_rate=9600")
    assert t.options == {"tty": "raw", "line_rate": "9600"}
    assert t.display() == "cmd://?argv=socat+-+/dev/pts/3,raw,echo=0&line_rate=9600&tty=raw"
    assert t.slug() == "socat----dev-pts-3-raw-echo-0"
    assert parse_target("cmd://?argv=/usr/bin/virsh+console+r1").slug() == "virsh-console-r1"


@pytest.mark.parametrize(("url", "says"), [
    ("cmd://", "no command"),
    ("cmd://?argv=", "no command"),
    ("cmd://?argv=+++", "no command"),
    ("cmd://host?argv=ls", "only in its query"),
    ("cmd://?argv=ls#frag", "only in its query"),
    ("cmd://?argv=ls&shell=1", "unknown cmd:// option"),
    ("cmd://?argv=ls&arg=a%00b", "NUL"),
    ("cmd://?argv=ls&tty=cbreak", "tty=sane"),
    ("cmd://?argv=ls&line_rate=fast", "bits per second"),
    ("cmd://?argv=ls&line_rate=0", "bits per second"),
])
def test_cmd_refusals(url: str, says: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_target(url)
    assert says in err.value.message + err.value.hint


ARGS = st.lists(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12),
                min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(ARGS, st.sampled_from([{}, {"tty": "raw"}, {"line_rate": "9600"}]))
def test_any_argv_round_trips_through_its_url(argv: list[str], options: dict[str, str]) -> None:
    """What run.json records (`display()`) starts exactly the same argv on `collector resume`."""
    if not argv[0].split():
        argv[0] = "prog"  # argv[0] is a program name
    target = Target(scheme="cmd", argv=tuple(argv), options=options)
    again = parse_target(target.display())
    assert again == target
    slug = target.slug()
    assert slug and all(c.isalnum() or c in "-._" for c in slug) and not slug.startswith((".", "-"))


def test_argv_query_groups_plain_words() -> None:
    assert argv_query(("a", "b c", "d", "e")) == [("argv", "a"), ("arg", "b c"), ("argv", "d e")]


@pytest.mark.parametrize(("url", "host", "port", "user", "config"), [
    ("openssh://router1", "router1", None, None, None),
    ("openssh://ops@router1:2222", "router1", 2222, "ops", None),
    ("openssh://jdoe%40corp.example@bastion-2.example", "bastion-2.example", None, "jdoe@corp.example", None),
    ("openssh://[2001:db8::1]:22?config=~/lab/ssh_config", "2001:db8::1", 22, None, "~/lab/ssh_config"),
])
def test_openssh_forms(url: str, host: str, port: int | None, user: str | None, config: str | None) -> None:
    t = parse_target(url)
    assert (t.scheme, t.host, t.port, t.user, t.option("config")) == ("openssh", host, port, user, config)
    assert "config" not in t.display()  # `collector resume` appends the recorded target options:
    again = parse_target(t.display() + (f"?{urlencode(t.options)}" if t.options else ""))
    assert again == t


HOSTILE_NAMES = st.text(min_size=1, max_size=20).filter(
    lambda s: s.startswith("-") or any(c in s for c in " \t\n'\"`$;&|<>()\\*?!{}"))


@settings(max_examples=200, deadline=None)
@given(HOSTILE_NAMES)
def test_openssh_never_takes_an_option_or_shell_word_as_a_host_or_user(name: str) -> None:
    from urllib.parse import quote

    for url in (f"openssh://{quote(name, safe='')}@router1", f"openssh://x@{quote(name, safe='')}"):
        try:
            t = parse_target(url)
        except UsageError:
            continue
        assert not t.host.startswith("-") and (t.user is None or not t.user.startswith("-"))
        assert not any(c in (t.host + (t.user or "")) for c in " \t\n'\"`$;&|<>()\\*?!{}")


@pytest.mark.parametrize("url", ["openssh://-oProxyCommand=touch%20x", "openssh://-l@router", "openssh://h?cmd=x",
                                 "openssh://router/path", "openssh://a%20b@router"])
def test_openssh_refusals(url: str) -> None:
    with pytest.raises(UsageError):
        parse_target(url)


@pytest.mark.parametrize(("url", "shown"), [
    ("ssh://admin@router1", "ssh://admin@router1"),
    ("ssh://admin@router1:2222", "ssh://admin@router1:2222"),
    ("telnet://r1:23", "telnet://r1"),
    ("serial:///dev/ttyUSB0?baud=9600", "serial:///dev/ttyUSB0?baud=9600"),
    ("rfc2217://ts:7001", "rfc2217://ts:7001"),
    ("modem:///dev/ttyS0?number=5551234", "modem:///dev/ttyS0?number=5551234"),
    ("router1", "ssh://router1"),
])
def test_existing_target_forms_are_unchanged(url: str, shown: str) -> None:
    t = parse_target(url)
    assert t.display() == shown and t.argv == ()
