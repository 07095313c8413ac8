"""The login dialog shared by every transport: usernames, passwords, OTPs, banners, consoles.

Built from the platform's patterns (with safe defaults); a refused login fails at once, never loops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..credentials import Credentials
from ..errors import AuthenticationError, DeviceError
from .dialog import Dialog, DialogContext, Statement

DEFAULTS: dict[str, str] = {
    "username": r"(?:user ?name|login)\s*:\s*$",
    "password": r"pass(?:word|code)\s*:\s*$",
    "otp": r"(?:otp|one[- ]time (?:password|code)|token(?: ?code)?|verification code|passcode)\s*:\s*$",
    "login_failed": (
        r"(?:% ?login invalid|authentication failed|login incorrect|access denied|"
        r"% ?bad (?:passwords?|secrets?)|permission denied)"
    ),
    "press_return": r"press return to get started",
    "initial_config": r"initial configuration dialog\?\s*\[yes/no\]\s*:?\s*$",
    "autoinstall": r"terminate autoinstall\?\s*\[yes(?:/no)?\]\s*:?\s*$",
    "rommon": r"(?:rommon\s*\d*\s*>|switch:|loader>)\s*$",
    "more": r"-+\s*more\s*-+|<--- more --->",
}


_ALIASES = {"initial_config_dialog": "initial_config"}


def login_patterns(platform: Any) -> dict[str, str | None]:
    """Platform patterns override the defaults; a platform value of None switches a statement off."""
    pats: dict[str, str | None] = dict(DEFAULTS)
    login = getattr(platform, "login", None)
    if login is not None:
        items = login.items() if isinstance(login, dict) else login.model_dump().items()
        for key, value in items:
            key = _ALIASES.get(key, key)
            if key in pats and key != "confirm":
                pats[key] = value.removeprefix("(?i)") if value else None
    return pats


def _rommon(ctx: DialogContext) -> bytes | None:
    raise DeviceError(
        "the device is in ROMMON / boot loader, not at its CLI; no playbook will run there",
        hint="boot the device (console: `boot` / `confreg`), then re-run",
    )


def build_login_dialog(platform: Any, creds: Credentials, ret: Callable[[], bytes]) -> Dialog:
    """Statements for reaching a CLI prompt; the caller stops when the prompt matcher fires."""
    pats = login_patterns(platform)
    sent_password = {"n": 0}

    def username(ctx: DialogContext) -> bytes:
        if not creds.username:
            raise AuthenticationError(
                "the device asks for a username and none was given",
                hint="put it in the target URL: telnet://USER@host",
            )
        ctx.notes["username_answered"] = True
        return creds.username.encode() + ret()

    def password(ctx: DialogContext) -> bytes:
        if sent_password["n"] >= 1 and ctx.notes.get("password_answered"):
            raise AuthenticationError(
                "the device asked for the password again: the login was refused",
                hint="check the username and password; collector stops after one try so the account is not locked",
            )
        if creds.password is None:
            raise AuthenticationError(
                "the device asks for a password and none was given",
                hint="pass --password-env VAR, --password-command CMD or --ask-password",
            )
        sent_password["n"] += 1
        ctx.notes["password_answered"] = True
        return creds.password.reveal().encode() + ret()

    def otp(ctx: DialogContext) -> bytes:
        return creds.otp(ctx.matched.decode("utf-8", "replace")).reveal().encode() + ret()

    def failed(ctx: DialogContext) -> bytes | None:
        if not ctx.notes.get("password_answered") and not ctx.notes.get("username_answered"):
            return None  # a banner that merely mentions "access denied"
        raise AuthenticationError(
            f"login refused by the device ({ctx.matched.decode('utf-8', 'replace').strip()})",
            hint="check the username and password; collector does not retry, so the account is not locked",
        )

    table: list[tuple[str, str, Any, int, str]] = [
        ("rommon", "rommon", _rommon, 10, ""),
        ("login_failed", "login_failed", failed, 10, r"[\s\S]*$"),
        ("otp", "otp", otp, 3, ""),
        ("password", "password", password, 2, ""),
        ("username", "username", username, 2, ""),
        ("press_return", "press_return", lambda c: ret(), 3, r"[\s\S]*$"),
        ("initial_config", "initial_config", lambda c: b"no" + ret(), 2, ""),
        ("autoinstall", "autoinstall", lambda c: b"yes" + ret(), 2, ""),
        ("more", "more", lambda c: b" ", 200, r"\s*$"),
    ]
    statements = []
    for name, key, action, limit, suffix in table:
        pattern = pats.get(key)
        if pattern:
            statements.append(Statement.of(name, f"(?:{pattern}){suffix}" if suffix else pattern, action,
                                           max_matches=limit))
    return Dialog(statements)
