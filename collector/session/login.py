"""Dialog tables for reaching a CLI: the login dialog (usernames, passwords, OTPs, banners, consoles) and enable.

Built only from the platform's fields; a refused login fails at once and never loops.
"""

from __future__ import annotations

from collections.abc import Callable

from ..credentials import Credentials
from ..errors import AuthenticationError, DeviceError
from ..expect.dialog import Dialog, DialogContext, Statement
from ..platforms import EnableSpec, Platform

PAGING_IN_LOGIN = 200  # --More-- prompts answered while a banner or MOTD scrolls by


def _answered(ctx: DialogContext) -> bool:
    notes = ctx.notes
    return bool(notes.get("password_answered") or notes.get("username_answered") or notes.get("passphrase_answered"))


def _rommon(ctx: DialogContext) -> bytes | None:
    raise DeviceError(
        "the device is in ROMMON / boot loader, not at its CLI; no playbook will run there",
        hint="boot the device (console: `boot` / `confreg`), then re-run",
    )


def _passphrase(creds: Credentials, ret: Callable[[], bytes]) -> Callable[[DialogContext], bytes]:
    """A local ssh client (openssh://) asks for its key's passphrase: answered once, never retried."""

    def answer(ctx: DialogContext) -> bytes:
        if ctx.counts.get("passphrase", 0) > 1:
            raise AuthenticationError("ssh asked for the key passphrase again: it was refused",
                                      hint="check the key passphrase; collector answers it once")
        if creds.key_passphrase is None:
            raise AuthenticationError("ssh asks for a key passphrase and none was given",
                                      hint="pass --key-passphrase-env VAR, or load the key into ssh-agent (ssh-add)")
        ctx.notes["passphrase_answered"] = True
        return creds.key_passphrase.reveal().encode() + ret()

    return answer


def _canned(response: str, ret: Callable[[], bytes]) -> Callable[[DialogContext], bytes]:
    """A platform's fixed answer; a newline in it is the Return key of this line."""
    data = response.encode()
    return lambda ctx: data.replace(b"\n", ret())


def login_dialog(platform: Platform, creds: Credentials, ret: Callable[[], bytes]) -> Dialog:
    """Statements for reaching a prompt; the caller ends the dialog when the prompt matcher fires."""
    pats = platform.login

    def username(ctx: DialogContext) -> bytes:
        if not creds.username:
            raise AuthenticationError(
                "the device asks for a username and none was given",
                hint="put it in the target URL: telnet://USER@host",
            )
        ctx.notes["username_answered"] = True
        return creds.username.encode() + ret()

    def password(ctx: DialogContext) -> bytes:
        if ctx.counts.get("password", 0) > 1:
            raise AuthenticationError(
                "the device asked for the password again: the login was refused",
                hint="check the username and password; collector stops after one try so the account is not locked",
            )
        if creds.password is None:
            raise AuthenticationError(
                "the device asks for a password and none was given",
                hint="pass --password-env VAR, --password-command CMD or --ask-password",
            )
        ctx.notes["password_answered"] = True
        return creds.password.reveal().encode() + ret()

    def otp(ctx: DialogContext) -> bytes:
        return creds.otp(ctx.matched.decode("utf-8", "replace")).reveal().encode() + ret()

    def failed(ctx: DialogContext) -> bytes | None:
        raise AuthenticationError(
            f"login refused by the device ({ctx.matched.decode('utf-8', 'replace').strip()[:200]})",
            hint="check the username and password; collector does not retry, so the account is not locked",
        )

    def paging(ctx: DialogContext) -> bytes:
        return platform.paging_response.encode()

    table: list[Statement] = []

    def add(name: str, pattern: str | None, action: Callable[[DialogContext], bytes | None], **kw: object) -> None:
        if pattern:
            table.append(Statement.of(name, pattern, action, **kw))  # type: ignore[arg-type]

    add("rommon", pats.rommon, _rommon)
    # a banner that merely mentions "access denied" is not a refusal: only after we answered something
    add("login_failed", f"(?:{pats.login_failed})[\\s\\S]*" if pats.login_failed else None, failed,
        applies=_answered)
    add("otp", pats.otp, otp, max_count=3, priority=1)  # "passcode:" is an OTP even if it looks like a password
    add("passphrase", pats.passphrase, _passphrase(creds, ret), max_count=2)
    add("password", pats.password, password, max_count=2)
    add("username", pats.username, username, max_count=2)
    add("press_return", f"(?:{pats.press_return})[\\s\\S]*" if pats.press_return else None, lambda c: ret(),
        max_count=3)
    add("initial_config", pats.initial_config_dialog, lambda c: b"no" + ret(), max_count=2)
    add("autoinstall", pats.autoinstall, lambda c: b"yes" + ret(), max_count=2)
    for n, reply in enumerate(pats.replies):  # accept a banner, decline a password change: platform data
        add(f"login_reply_{n}", reply.pattern, _canned(reply.response, ret), max_count=2)
    for n, pattern in enumerate(platform.paging_patterns):
        add(f"paging_{n}", pattern, paging, max_count=PAGING_IN_LOGIN)
    return Dialog(table)


def enable_dialog(spec: EnableSpec, creds: Credentials, ret: Callable[[], bytes]) -> Dialog:
    """Statements while `enable` runs: answer the secret once; a refusal or a second ask fails at once."""

    def answer(ctx: DialogContext) -> bytes:
        if creds.enable is None:
            raise AuthenticationError(
                "the device asks for an enable secret and none was given",
                hint="pass --enable-env VAR or --ask-enable",
            )
        if ctx.counts.get("enable_password", 0) > 1:
            raise AuthenticationError("enable secret refused", hint="check the enable secret")
        return creds.enable.reveal().encode() + ret()

    def refused(ctx: DialogContext) -> bytes | None:
        raise AuthenticationError("enable secret refused by the device", hint="check the enable secret")

    def username(ctx: DialogContext) -> bytes:
        if not creds.username:
            raise AuthenticationError("enable asks for a username and none was given",
                                      hint="put it in the target URL: ssh://USER@host")
        return creds.username.encode() + ret()

    table = [
        Statement.of("enable_refused", f"(?:{spec.refused_pattern})[\\s\\S]*", refused),
        Statement.of("enable_password", spec.password_prompt, answer, max_count=2),
    ]
    if spec.username_prompt:  # ProCurve: enable asks for the manager's username too
        table.append(Statement.of("enable_username", spec.username_prompt, username, max_count=2))
    return Dialog(table)
