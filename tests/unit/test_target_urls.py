"""Target URLs: every malformed form is a usage error (exit 2) naming the problem, never an internal error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from collector.cli import app
from collector.errors import UsageError
from collector.target import Target, parse_target

MALFORMED = {
    "ssh://admin@[::1": "Invalid IPv6",
    "ssh://@host": "user name before @ is empty",
    "ssh:/host": "must be followed by //",
    "ssh:host": "must be followed by //",
    "ssh://a b": "not a host name",
    "ssh://host/etc/passwd": "takes no path",
    "ssh://host:99999": "bad port",
    "telnet://": "no host",
    "ftp://host": "unknown target scheme",
    "ssh://user:pw@host": "password in the target URL is refused",
    "ssh://ho\x1bst": "control characters",
}


@pytest.mark.parametrize("url,why", MALFORMED.items())
def test_malformed_urls_say_why(url: str, why: str) -> None:
    with pytest.raises(UsageError, match=why) as err:
        parse_target(url)
    assert err.value.exit_code == 2 and err.value.hint


@settings(max_examples=400)
@given(st.lists(st.sampled_from(list("sh:/@[]%?&=.-_ 9aZ\x00\t") + ["ssh://", "telnet://", "::1"])).map("".join))
def test_any_text_is_a_target_or_a_usage_error(text: str) -> None:
    try:
        target = parse_target(text)
    except UsageError:
        return
    assert isinstance(target, Target) and (target.host or target.path)


def test_the_cli_exits_2_with_one_line() -> None:
    result = CliRunner().invoke(app, ["run", "playbooks/linux/host-baseline.yaml", "--target", "ssh://admin@[::1"])
    assert result.exit_code == 2
    assert "malformed target URL" in result.output and "Traceback" not in result.output
