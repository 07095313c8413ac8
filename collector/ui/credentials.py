"""Builds Credentials from CLI flags: env vars, commands (password managers) or interactive prompts.

Secrets never echo and are never logged; OTPs are asked for each time they are needed.
"""

from __future__ import annotations

import getpass
import sys

from ..credentials import OtpProvider
from ..errors import UsageError
from ..secrets import Secret, secret_from_command, secret_from_env


def one_source(label: str, env: str | None, command: str | None, ask: bool) -> Secret | None:
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


def secret_from_source(label: str, env: str | None, command: str | None, ask: bool, *,
                       asked: bool = False) -> Secret | None:
    """A secret from exactly one source; a prompt that cannot be shown (no terminal) says how to give it."""
    if env:
        return secret_from_env(env, label)
    if command:
        return secret_from_command(command, label)
    if ask or asked:
        flag = {"enable secret": "enable", "key passphrase": "key-passphrase"}.get(label, label.split()[0])
        if not ask or not sys.stdin.isatty():
            raise UsageError(f"the {label} is asked on a terminal, and there is none here",
                             hint=f"give it with --{flag}-env VAR or --{flag}-command CMD")
        return Secret(getpass.getpass(f"{label.capitalize()}: "), label)
    return None


def otp_provider(command: str | None, interactive: bool) -> OtpProvider | None:
    if command:
        return lambda prompt: secret_from_command(command, "otp")
    if interactive and sys.stdin.isatty():
        return lambda prompt: Secret(getpass.getpass(prompt.strip() + " " if prompt.strip() else "OTP: "), "otp")
    return None
