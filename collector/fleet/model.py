"""The inventory as collector sees it: devices with a target, platform, groups, path and credential references.

Every loader (nornir, Ansible YAML/INI, CSV) produces these; selection, planning and dry-run read only them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .refs import SecretRef

#: the credentials a device can refer to (the playbook's login, enable, key passphrase, OTP, jump host password)
CREDENTIALS = ("password", "enable", "key_passphrase", "otp", "jump_password")


@dataclass(frozen=True)
class Device:
    """One inventory host, resolved (group and default values inherited); never a secret value."""

    name: str
    target: str  # URL without secrets, e.g. ssh://admin@10.0.0.1:22
    source: str  # file:line of the host entry
    platform: str | None = None  # our platform name (mapped from nornir/netmiko/Ansible names), None: the playbook's
    platform_given: str | None = None  # as written in the inventory
    groups: tuple[str, ...] = ()  # every group the host belongs to, parents included, nearest first
    jumps: tuple[str, ...] = ()  # jump host URLs, nearest first
    jump_mode: str = "direct"
    aaa: str | None = None  # AAA server group (TACACS/RADIUS): logins are limited per group
    queue: str | None = None  # where a distributed run sends this device's job
    credentials: dict[str, SecretRef] = field(default_factory=dict)
    key_file: str | None = None
    connect: dict[str, Any] = field(default_factory=dict)  # accept_new_host_key, known_hosts, legacy_algorithms...
    data: dict[str, Any] = field(default_factory=dict)  # every other variable (filters, playbook variables)

    def attribute(self, key: str) -> Any:
        """A value by name for filters: a field, `group`/`groups`, or a data variable (nested with `__`)."""
        fixed = {"name": self.name, "target": self.target, "platform": self.platform or self.platform_given,
                 "groups": list(self.groups), "group": list(self.groups), "jump": list(self.jumps),
                 "jumps": list(self.jumps), "aaa": self.aaa, "queue": self.queue, "jump_mode": self.jump_mode}
        if key in fixed:
            return fixed[key]
        url = _url_parts(self.target)
        if key in url:
            return url[key]
        value: Any = self.data
        for part in key.split("__"):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value


def _url_parts(target: str) -> dict[str, Any]:
    from urllib.parse import urlsplit

    parts = urlsplit(target)
    try:
        port = parts.port
    except ValueError:
        port = None
    return {"scheme": parts.scheme, "hostname": parts.hostname, "host": parts.hostname, "port": port,
            "username": parts.username, "user": parts.username}


@dataclass
class Inventory:
    """Devices in file order, every group name seen, and where they came from."""

    devices: list[Device]
    groups: set[str]
    source: str
    kind: str  # nornir | ansible-yaml | ansible-ini | csv

    def names(self) -> list[str]:
        return [d.name for d in self.devices]
