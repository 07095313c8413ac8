"""Login and enable dialog tables of every platform, fed the prompts devices really print.

The tables are built from platform data only; these tests pin what each platform answers and when it stops.
"""

from __future__ import annotations

import pytest

from collector.credentials import Credentials
from collector.errors import AuthenticationError, DeviceError
from collector.expect.dialog import DialogContext
from collector.expect.prompt import PromptMatcher, quoted_split, random_prompt
from collector.platforms import list_platforms, load_platform
from collector.secrets import Secret
from collector.session.login import enable_dialog, login_dialog

CREDS = Credentials(username="ops", password=Secret("pw-1"), enable=Secret("en-2"),
                    otp_provider=lambda prompt: Secret("123456"))
RET = lambda: b"\n"  # noqa: E731


def answer(platform: str, tail: bytes, ctx: DialogContext | None = None) -> tuple[str | None, bytes | None]:
    ctx = ctx or DialogContext()
    dialog = login_dialog(load_platform(platform), CREDS, RET)
    st = dialog.match(tail, ctx)
    if st is None:
        return None, None
    return st.name, st.action(ctx) if st.action else None


@pytest.mark.parametrize("platform", list_platforms())
def test_every_platform_answers_username_and_password(platform: str) -> None:
    assert answer(platform, b"\r\nUser Access Verification\r\n\r\nUsername: ") == ("username", b"ops\n")
    assert answer(platform, b"\r\nPassword: ") == ("password", b"pw-1\n")


@pytest.mark.parametrize("platform", list_platforms())
def test_every_platform_fails_at_once_on_a_refused_login(platform: str) -> None:
    ctx = DialogContext(notes={"password_answered": True})
    p = load_platform(platform)
    assert p.login.login_failed
    refusal = {"linux": b"Login incorrect", "juniper_junos": b"Login incorrect"}.get(platform,
                                                                                     b"% Authentication failed")
    with pytest.raises(AuthenticationError):
        answer(platform, refusal + b"\r\n\r\nUsername: ", ctx)


def test_a_banner_that_mentions_access_denied_is_not_a_refusal() -> None:
    banner = b"UNAUTHORISED ACCESS DENIED - all activity is logged\r\n\r\nUsername: "
    assert answer("cisco_ios", banner) == ("username", b"ops\n")


def test_a_second_password_prompt_is_a_refusal_not_a_retry() -> None:
    ctx = DialogContext()
    assert answer("cisco_ios", b"Password: ", ctx) == ("password", b"pw-1\n")
    with pytest.raises(AuthenticationError, match="asked for the password again"):
        answer("cisco_ios", b"\r\nPassword: ", ctx)


def test_otp_wins_over_password_for_a_passcode_prompt() -> None:
    assert answer("cisco_ios", b"Enter PASSCODE: ") == ("otp", b"123456\n")


def test_ios_console_dialogs() -> None:
    assert answer("cisco_ios", b"R1 con0 is now available\r\n\r\nPress RETURN to get started!\r\n") == (
        "press_return", b"\n")
    assert answer("cisco_ios", b"Would you like to enter the initial configuration dialog? [yes/no]: ") == (
        "initial_config", b"no\n")
    with pytest.raises(DeviceError, match="ROMMON"):
        answer("cisco_ios", b"\r\nrommon 1 > ")


@pytest.mark.parametrize("platform", list_platforms())
def test_banner_paging_is_answered_with_the_platforms_response(platform: str) -> None:
    p = load_platform(platform)
    if not p.paging_patterns:
        pytest.skip("no paging on this platform")
    samples = {"cisco_ios": b" --More-- ", "juniper_junos": b"---(more)---", "linux": b"--More--",
               "cisco_asa": b"<--- More --->", "cisco_wlc": b"--More-- or (q)uit",
               "extreme_exos": b"Press <SPACE> to continue or <Q> to quit:",
               "hp_procurve": b"-- MORE --, next page: Space, next line: Enter, quit: Control-C",
               "huawei": b"  ---- More ----", "mikrotik_routeros": b"-- [Q quit|D dump|down]"}
    text = samples.get(platform, b" --More-- ")
    name, sent = answer(platform, b"long banner\r\n" + text)
    assert name is not None and name.startswith("paging_") and sent == p.paging_response.encode()


@pytest.mark.parametrize("platform", [n for n in list_platforms() if load_platform(n).enable is not None])
def test_enable_tables(platform: str) -> None:
    spec = load_platform(platform).enable
    assert spec is not None
    dialog = enable_dialog(spec, CREDS, RET)
    ctx = DialogContext()
    st = dialog.match(b"enable\r\nPassword: ", ctx)
    assert st is not None and st.action is not None and st.action(ctx) == b"en-2\n"
    with pytest.raises(AuthenticationError):
        st2 = dialog.match(b"\r\n% Access denied\r\n\r\nR1>", ctx)
        assert st2 is not None and st2.action is not None
        st2.action(ctx)


@pytest.mark.parametrize("platform", list_platforms())
def test_user_mode_is_told_by_platform_data(platform: str) -> None:
    p = load_platform(platform)
    if p.enable is None:
        assert p.mode_of("R1>") != "user"
    else:
        assert p.mode_of("R1>") == "user" and p.mode_of("R1#") == "privileged"
    if p.config_pattern and p.config_exit_command:
        config = {"juniper_junos": "ops@R1#", "paloalto_panos": "ops@R1#", "cisco_xr": "RP/0/RP0/CPU0:R1(config)#",
                  "cisco_wlc": "(R1) config>", "fortinet": "R1 (console) #", "huawei": "[R1]"}.get(platform,
                                                                                                 "R1(config)#")
        assert p.mode_of(config) == "config"


def test_prompt_learning_and_hostname() -> None:
    m = PromptMatcher(load_platform("cisco_ios").prompt_pattern)
    assert m.find_at_end(b"output\r\nR1#") is not None
    m.learn(b"R1#")
    assert m.is_prompt(b"R1(config)#") and not m.is_prompt(b"R2#")
    found = m.find_at_end(b"line\r\nR1>")
    assert found is not None and found.text == "R1>" and found.start == 6
    assert m.find_at_end(b"R1# is not a prompt here\r\n") is None


def test_unique_prompt_ends_output_without_a_final_newline() -> None:
    m = PromptMatcher(load_platform("linux").prompt_pattern)
    m.learn(b"ops@host:~$")
    text = random_prompt()
    m.make_unique(text.encode())
    glued = b"abc" + text.encode()
    found = m.find_at_end(glued)
    assert found is not None and found.start == 3
    # a line that merely looks like a prompt is not one any more
    assert m.find_at_end(b"a\r\nops@host:~$ ") is None
    # the command that sets it never echoes the prompt text itself
    assert text.rstrip() not in quoted_split(text)
