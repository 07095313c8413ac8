"""Maps a target URL scheme to its transport class (imported lazily, so unused stacks never load).

ssh → SSHTransport, telnet → TelnetTransport, serial/rfc2217/socket → SerialTransport, modem → ModemTransport.
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
}


def make_transport(target: Target, options: ConnectOptions) -> Transport:
    if options.jumps and options.jump_mode == "shell" and target.scheme in ("ssh", "telnet"):
        # the last jump host's shell runs its own ssh/telnet client (SSHTransport opens that shell)
        module, name = _CLASSES["ssh"]
        cls = getattr(importlib.import_module(module), name)
        return cls(target, options)  # type: ignore[no-any-return]
    try:
        module, name = _CLASSES[target.scheme]
    except KeyError as exc:
        raise UsageError(f"no transport for {target.scheme}://") from exc
    cls = getattr(importlib.import_module(module), name)
    transport: Transport = cls(target, options)
    return transport
