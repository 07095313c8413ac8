"""One host's merged variables (nornir, Ansible or collector spellings) turned into a Device, refusing bad values.

Each value carries the `file:line` it came from, so an error names the line to fix, also for inherited values.
"""

from __future__ import annotations

import shlex
from typing import Any

from ..errors import InventoryError, UsageError
from ..target import SCHEMES, parse_jumps, parse_target
from .model import Device
from .platform_names import TELNET_SUFFIX, our_name
from .refs import SecretRef, command_ref, env_ref, parse_ref

#: value -> where it was written
Vars = dict[str, tuple[Any, str]]

ALIASES: dict[str, str] = {
    "host": "hostname", "ansible_host": "hostname", "ansible_ssh_host": "hostname", "address": "hostname",
    "ansible_port": "port", "ansible_ssh_port": "port",
    "user": "username", "ansible_user": "username", "ansible_ssh_user": "username",
    "ansible_network_os": "platform", "device_type": "platform",
    "transport": "scheme", "protocol": "scheme", "ansible_connection": "scheme", "url": "target",
    "ansible_password": "password", "ansible_ssh_pass": "password", "ansible_ssh_password": "password",
    "secret": "enable", "enable_secret": "enable", "enable_password": "enable", "ansible_become_password": "enable",
    "ansible_become_pass": "enable", "ansible_enable_password": "enable",
    "ansible_ssh_private_key_file": "key_file", "ansible_private_key_file": "key_file",
    "private_key_file": "key_file", "aaa_group": "aaa", "jump_host": "jump", "jump_hosts": "jump",
    "proxy_jump": "jump",
}
#: ansible_connection values that mean an SSH CLI session
SSH_CONNECTIONS = {"network_cli", "ssh", "paramiko", "paramiko_ssh", "libssh", "smart", "ansible.netcommon.network_cli"}
SECRET_FIELDS = ("password", "enable", "key_passphrase", "otp", "jump_password")
CONNECT_BOOLS = ("accept_new_host_key", "legacy_algorithms", "use_agent", "ssh_config")
#: consumed here; every other variable stays in Device.data
FIELDS = {"hostname", "port", "username", "platform", "scheme", "target", "key_file", "jump", "jump_mode", "aaa",
          "queue", "known_hosts", "vars", "groups", "data", "connection_options", "ansible_ssh_common_args",
          "ansible_ssh_extra_args", *CONNECT_BOOLS, *SECRET_FIELDS,
          *(f"{s}_env" for s in SECRET_FIELDS), *(f"{s}_command" for s in SECRET_FIELDS)}


def canonical(values: Vars) -> Vars:
    """The same variables under collector's names (a later alias never hides an explicit collector name)."""
    out: Vars = {}
    for key, item in values.items():
        name = ALIASES.get(key, key)
        if name in out and name != key:
            continue
        out[name] = item
    return out


def build_device(name: str, values: Vars, groups: list[str], source: str) -> Device:
    v = canonical(values)
    where = f"{source}: host {name}"
    platform_given = _text(v, "platform")
    platform = our_name(platform_given) if platform_given else None
    scheme = _scheme(v, platform_given)
    target = _target(name, v, scheme, where)
    return Device(
        name=name, target=target, source=source, platform=platform, platform_given=platform_given,
        groups=tuple(dict.fromkeys(groups)), jumps=_jumps(v, where), jump_mode=_text(v, "jump_mode") or "direct",
        aaa=_text(v, "aaa"), queue=_text(v, "queue"), credentials=_credentials(v), key_file=_text(v, "key_file"),
        connect=_connect(v), data=_data(v),
    )


def _text(v: Vars, key: str) -> str | None:
    value = v.get(key, (None, ""))[0]
    return None if value is None or value == "" else str(value)


def _scheme(v: Vars, platform_given: str | None) -> str:
    given = (_text(v, "scheme") or "").lower()
    if given in SSH_CONNECTIONS:
        return "ssh"
    if given:
        if given not in SCHEMES:
            raise InventoryError(f"{v['scheme'][1]}: transport {given!r} is not one collector speaks",
                                 hint="use " + ", ".join(SCHEMES))
        return given
    if platform_given and platform_given.lower().endswith(TELNET_SUFFIX):
        return "telnet"
    return "ssh"


def _target(name: str, v: Vars, scheme: str, where: str) -> str:
    explicit = _text(v, "target")
    try:
        if explicit:
            t = parse_target(explicit)
            user = _text(v, "username")
            if user and not t.user:
                t = parse_target(explicit.replace("://", f"://{user}@", 1))
            keep = t.options and t.scheme not in ("serial", "modem")  # their display carries the options already
            return t.display() + (f"?{_query(t.options)}" if keep else "")
        host = _text(v, "hostname") or name
        port = v.get("port", (None, ""))[0]
        if port is not None and port != "" and not str(port).isdigit():
            raise InventoryError(f"{v['port'][1]}: port {str(port)!r} is not a number")
        user = _text(v, "username")
        netloc = f"{user}@" if user else ""
        netloc += f"[{host}]" if ":" in host else host
        netloc += f":{port}" if port not in (None, "") else ""
        return parse_target(f"{scheme}://{netloc}").display()
    except InventoryError:
        raise
    except UsageError as exc:
        at = v["target"][1] if explicit else v.get("hostname", (None, where))[1] or where
        raise InventoryError(f"{at}: host {name}: {exc.message}", hint=exc.hint) from None


def _query(options: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(options)


def _jumps(v: Vars, where: str) -> tuple[str, ...]:
    value, at = v.get("jump", (None, where))
    specs: list[str] = []
    if isinstance(value, list):
        specs = [str(x) for x in value if x]
    elif value:
        specs = [s for s in str(value).split(",") if s.strip()]
    for key in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        args, at2 = v.get(key, (None, at))
        if args and not specs:
            specs, at = _proxy_jump(str(args)), at2
    try:
        hops = parse_jumps(",".join(s if "://" in s else f"ssh://{s.strip()}" for s in specs))
    except UsageError as exc:
        raise InventoryError(f"{at}: {exc.message}", hint=exc.hint) from None
    return tuple(h.display() for h in hops)


def _proxy_jump(args: str) -> list[str]:
    """ProxyJump hosts in OpenSSH arguments (`-J a,b` or `-o ProxyJump=a`), as Ansible inventories give them."""
    try:
        words = shlex.split(args)
    except ValueError:
        return []
    for i, word in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word == "-J":
            return nxt.split(",")
        option = nxt if word == "-o" else word[2:] if word.startswith("-o") else ""
        key, _, value = option.partition("=")
        if key.lower() == "proxyjump" and value:
            return value.split(",")
    return []


def _credentials(v: Vars) -> dict[str, SecretRef]:
    out: dict[str, SecretRef] = {}
    for secret in SECRET_FIELDS:
        for key, parse in ((secret, parse_ref), (f"{secret}_env", env_ref), (f"{secret}_command", command_ref)):
            value, at = v.get(key, (None, ""))
            if value in (None, ""):
                continue
            ref = parse(value, at, key)
            if ref is not None:
                out[secret] = ref
    return out


def _connect(v: Vars) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in CONNECT_BOOLS:
        value, at = v.get(key, (None, ""))
        if value is None:
            continue
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
            value = value.lower() in ("true", "yes", "1")
        if not isinstance(value, bool):
            raise InventoryError(f"{at}: {key} must be true or false")
        out[key] = value
    if _text(v, "known_hosts"):
        out["known_hosts"] = _text(v, "known_hosts")
    return out


def _data(v: Vars) -> dict[str, Any]:
    out = {k: value for k, (value, _) in v.items() if k not in FIELDS and not k.startswith("ansible_")}
    for key in ("data", "vars"):
        nested = v.get(key, (None, ""))[0]
        if isinstance(nested, dict):
            out.update(nested)
    return out
