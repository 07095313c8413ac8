"""Builds Credentials from CLI flags: env vars, commands (password managers) or interactive prompts.

Secrets never echo and are never logged; OTPs are asked for each time they are needed.
"""

from __future__ import annotations

import getpass
import sys

from ..credentials import Credentials, OtpProvider
from ..errors import UsageError
from ..secrets import Secret, secret_from_command, secret_from_env


def _one_source(label: str, env: str | None, command: str | None, ask: bool) -> Secret | None:
    given = [x for x in (env, command, ask or None) if x]
    if len(given) > 1:
        raise UsageError(f"give the {label} one way only (env, command or prompt)")
    if env:
        return secret_from_env(env, label)
    if command:
        return secret_from_command(command, label)
    if ask:
        if not sys.stdin.isatty():
            raise UsageError(f"--ask-{label.split()[0]} needs a terminal", hint=f"use --{label.split()[0]}-env VAR")
        return Secret(getpass.getpass(f"{label.capitalize()}: "), label)
    return None


def otp_provider(command: str | None, interactive: bool) -> OtpProvider | None:
    if command:
        return lambda prompt: secret_from_command(command, "otp")
    if interactive and sys.stdin.isatty():
        return lambda prompt: Secret(getpass.getpass(prompt.strip() + " " if prompt.strip() else "OTP: "), "otp")
    return None


def build_credentials(
    *,
    username: str | None,
    password_env: str | None = None,
    password_command: str | None = None,
    ask_password: bool = False,
    enable_env: str | None = None,
    enable_command: str | None = None,
    ask_enable: bool = False,
    key_file: str | None = None,
    key_passphrase_env: str | None = None,
    otp_command: str | None = None,
    interactive: bool = True,
) -> Credentials:
    return Credentials(
        username=username,
        password=_one_source("password", password_env, password_command, ask_password),
        enable=_one_source("enable secret", enable_env, enable_command, ask_enable),
        key_file=key_file,
        key_passphrase=secret_from_env(key_passphrase_env, "key passphrase") if key_passphrase_env else None,
        otp_provider=otp_provider(otp_command, interactive),
    )
