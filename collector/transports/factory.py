"""Maps a target URL scheme to its transport class (imported lazily, so unused stacks never load).

ssh → SSHTransport, telnet → TelnetTransport, serial/rfc2217/socket → SerialTransport, modem → ModemTransport,
openssh → OpenSSHTransport (the system ssh client), cmd → CmdTransport (any local console program);
ssh or telnet with `--jump-mode shell` → HopShellTransport (the last jump host's own client carries the bytes).
"""

from __future__ import annotations

import importlib

from ..errors import UsageError
from ..target import Target
from .base import ConnectOptions, Transport

_CLASSES = {
    "ssh": ("collector.transports.ssh", "SSHTransport"),
    "telnet": ("collector.transports.telnet", "TelnetTransport"),
    "serial": ("collector.transports.serial", "SerialTransport"),
    "rfc2217": ("collector.transports.serial", "SerialTransport"),
    "socket": ("collector.transports.serial", "SerialTransport"),
    "modem": ("collector.transports.modem", "ModemTransport"),
    "openssh": ("collector.transports.openssh", "OpenSSHTransport"),
    "cmd": ("collector.transports.cmd", "CmdTransport"),
}
_HOP_SHELL = ("collector.transports.hop_shell", "HopShellTransport")


def make_transport(target: Target, options: ConnectOptions) -> Transport:
    if options.jump_mode == "shell" and target.scheme in ("ssh", "telnet"):
        where = _HOP_SHELL
    else:
        try:
            where = _CLASSES[target.scheme]
        except KeyError as exc:
            raise UsageError(f"no transport for {target.scheme}://") from exc
    cls = getattr(importlib.import_module(where[0]), where[1])
    transport: Transport = cls(target, options)
    return transport
