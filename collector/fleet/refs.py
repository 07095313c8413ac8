"""Credential REFERENCES in an inventory (an env variable's name, a command as an argv list) and the refusal of values.

Deny by default: a key that names a secret (password, secret, token, passphrase, community, ...) may hold only a
reference form; anything else is refused with its file and line. Commands run as argv, never through a shell.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InventoryError, UsageError
from ..secrets import Secret

#: a key naming a secret (matched on the lower-cased key without an `ansible_` prefix)
SECRET_KEY = re.compile(
    r"password|passwd|passphrase|secret|token|community|credential|vault|api_?key|auth_?key|psk|pre_?shared"
    r"|(?:^|_)(?:pass|pwd|otp|key)(?:_|$)|(?:^|_)enable$"
)
#: suffixes that make a secret-named key a reference key: NAME_env holds a variable name, NAME_command a command
REF_SUFFIXES = ("_env", "_command")
#: keys that hold a path to a file, never the secret itself
PATH_SUFFIXES = ("_file", "_path", "_files")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: Ansible's own reference forms: "{{ lookup('env', 'VAR') }}" and "{{ lookup('pipe', 'pass show r1') }}"
LOOKUP = re.compile(r"""\{\{\s*lookup\(\s*['"](env|pipe)['"]\s*,\s*(['"])(.*?)\2\s*\)\s*\}\}""")
#: commands that print their own arguments: a "command" like `echo s3cret` is a value in disguise
LITERAL_PRINTERS = {"echo", "printf", "yes", "cat"}
COMMAND_TIMEOUT = 60.0


@dataclass(frozen=True)
class SecretRef:
    """Where one secret comes from: an environment variable's name, or a command (argv) printing it."""

    env: str | None = None
    argv: tuple[str, ...] | None = None

    def describe(self) -> str:
        return f"${self.env}" if self.env else f"command {shlex.join(self.argv or ())}"

    def to_json(self) -> dict[str, Any]:
        return {"env": self.env} if self.env else {"command": list(self.argv or ())}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SecretRef:
        if data.get("env"):
            return cls(env=str(data["env"]))
        return cls(argv=tuple(str(a) for a in data.get("command") or ()))


def secret_key(key: str) -> bool:
    """Does this key name a secret (so its value must be a reference)?"""
    k = key.lower().removeprefix("ansible_").replace("-", "_")
    if k.endswith(PATH_SUFFIXES):
        return False
    return bool(SECRET_KEY.search(k))


def ref_key(key: str) -> bool:
    """Is this a reference key (password_env, enable_command ...)?"""
    k = key.lower().replace("-", "_")
    return k.endswith(REF_SUFFIXES) and secret_key(k.rsplit("_", 1)[0] or k)


def env_ref(value: Any, where: str, key: str) -> SecretRef:
    if not isinstance(value, str) or not ENV_NAME.fullmatch(value):
        raise InventoryError(f"{where}: {key} must be the NAME of an environment variable, not a value",
                             hint=f"write {key}: MY_VAR and export MY_VAR before the run")
    return SecretRef(env=value)


def command_ref(value: Any, where: str, key: str) -> SecretRef:
    """A command as an argv list (a string is split like a shell would, but never run by one)."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise InventoryError(f"{where}: {key}: {exc}",
                                 hint="write the command as a list: [pass, show, r1]") from None
    elif isinstance(value, list | tuple) and all(isinstance(a, str | int) for a in value):
        argv = [str(a) for a in value]
    else:
        raise InventoryError(f"{where}: {key} must be a command (a list of words)",
                             hint="e.g. [pass, show, routers/r1]")
    if not argv or not argv[0].strip():
        raise InventoryError(f"{where}: {key} is an empty command", hint="e.g. [pass, show, routers/r1]")
    if os.path.basename(argv[0]) in LITERAL_PRINTERS:
        raise InventoryError(f"{where}: {key} prints its own arguments: the secret would sit in the inventory",
                             hint="fetch it with a password manager command or give it in an env variable")
    return SecretRef(argv=tuple(argv))


def parse_ref(value: Any, where: str, key: str) -> SecretRef | None:
    """The reference a secret-named key holds; None when empty; InventoryError for a value (never echoed)."""
    if value is None or value == "" or isinstance(value, bool):
        return None  # nothing given (a boolean is never a secret)
    if isinstance(value, Mapping):
        keys = set(value)
        if keys == {"env"}:
            return env_ref(value["env"], where, f"{key}.env")
        if keys == {"command"}:
            return command_ref(value["command"], where, f"{key}.command")
    if isinstance(value, str):
        m = LOOKUP.fullmatch(value.strip())
        if m is not None:
            kind, _, arg = m.groups()
            return env_ref(arg, where, key) if kind == "env" else command_ref(arg, where, key)
    raise InventoryError(
        f"{where}: {key} holds a secret value; an inventory holds references only (the value is not shown)",
        hint=f"write {key}: {{env: VAR}} or {{command: [pass, show, NAME]}} (or {key}_env: VAR), and remove the "
             "value from the file and its history",
    )


def check_key(key: str, value: Any, where: str) -> None:
    """Refuse a secret value under `key` (reference keys must hold a name or a command)."""
    k = str(key)
    if ref_key(k):
        if value in (None, ""):
            return
        (env_ref if k.lower().endswith("_env") else command_ref)(value, where, k)
    elif secret_key(k):
        parse_ref(value, where, k)


def resolve(ref: SecretRef, label: str, environ: Mapping[str, str] | None = None) -> Secret:
    """The secret itself: the variable's value, or the first line the command prints (argv, no shell)."""
    env = os.environ if environ is None else environ
    if ref.env:
        value = env.get(ref.env)
        if value is None:
            raise UsageError(f"environment variable {ref.env} is not set (the {label} of the inventory refers to it)",
                             hint=f"export {ref.env}=... before the run")
        return Secret(value, label)
    argv = list(ref.argv or ())
    try:
        done = subprocess.run(argv, shell=False, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                              check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"the {label} command {argv[0]!r} could not run: {type(exc).__name__}",
                         hint="run it by hand to see why; its output is never logged") from None
    if done.returncode != 0:
        raise UsageError(f"the {label} command {argv[0]!r} exited with status {done.returncode}",
                         hint="run it by hand to see why; its output is never logged")
    line = done.stdout.splitlines()[0] if done.stdout else ""
    if not line:
        raise UsageError(f"the {label} command {argv[0]!r} printed nothing",
                         hint="it must print the secret on its first line")
    return Secret(line, label)
