"""~/.ssh/config for SSH targets and jump hosts: HostName, User, Port, IdentityFile, ProxyJump.

Values given explicitly (target URL, --jump, --key) win over the config file.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import paramiko

from ..errors import UsageError
from ..target import Target, parse_target

#: Target option carrying identity files for a hop (comma-separated paths)
KEY_OPTION = "key"
MAX_JUMP_DEPTH = 8


def load_ssh_config(path: str | None) -> paramiko.SSHConfig | None:
    """The parsed config, or None when disabled (path None) or absent."""
    if not path:
        return None
    full = os.path.expanduser(path)
    if not os.path.isfile(full):
        return None
    try:
        return paramiko.SSHConfig.from_path(full)
    except (paramiko.SSHException, OSError, ValueError) as exc:
        raise UsageError(f"cannot read ssh config {path}: {exc}", hint="fix the file or pass --no-ssh-config") from None


def identity_files_of(target: Target) -> list[str]:
    raw = target.option(KEY_OPTION) or ""
    return [p for p in raw.split(",") if p]


def _parse_proxyjump(value: str) -> list[Target]:
    if not value or value.strip().lower() == "none":
        return []
    hops = []
    for part in value.split(","):
        part = part.strip()
        if part:
            hop = parse_target(part)
            if hop.scheme != "ssh":
                raise UsageError(f"ProxyJump entry {part!r} is not an SSH host", hint="fix ~/.ssh/config")
            hops.append(hop)
    return hops


def _apply(target: Target, cfg: paramiko.SSHConfig) -> tuple[Target, list[str], list[Target]]:
    """One config lookup: the resolved target, its identity files and its ProxyJump hops (unexpanded)."""
    found: Any = cfg.lookup(target.host)
    host = str(found.get("hostname") or target.host)
    user = target.user or found.get("user")
    port = target.port
    if (port is None or port == 22) and found.get("port"):
        try:
            port = int(found["port"])
        except ValueError:
            raise UsageError(f"bad Port {found['port']!r} for {target.host} in ssh config") from None
    files = identity_files_of(target) + [
        os.path.expanduser(p) for p in found.get("identityfile", []) if os.path.exists(os.path.expanduser(p))
    ]
    options = dict(target.options)
    if host != target.host:
        options.setdefault("alias", target.host)
    if files:
        options[KEY_OPTION] = ",".join(dict.fromkeys(files))
    resolved = replace(target, host=host, user=user, port=port or 22, options=options)
    return resolved, list(dict.fromkeys(files)), _parse_proxyjump(str(found.get("proxyjump") or ""))


def _expand_chain(hops: list[Target], cfg: paramiko.SSHConfig, depth: int) -> list[Target]:
    """ProxyJump a,b: the first hop is reached through its own ProxyJump; later hops through the previous one."""
    if depth > MAX_JUMP_DEPTH:
        raise UsageError("ProxyJump chain in ssh config is too deep (a loop?)", hint="check ProxyJump entries")
    if not hops:
        return []
    first, first_files, first_jumps = _apply(hops[0], cfg)
    chain = _expand_chain(first_jumps, cfg, depth + 1) + [first]
    for hop in hops[1:]:
        chain.append(_apply(hop, cfg)[0])
    return chain


def resolve_jumps(jumps: list[Target], ssh_config: str | None) -> list[Target]:
    """Apply the config to a --jump chain (each hop's HostName/User/Port/IdentityFile, first hop's ProxyJump)."""
    cfg = load_ssh_config(ssh_config)
    if cfg is None:
        return list(jumps)
    return _expand_chain(list(jumps), cfg, 0)


def resolve_ssh_target(target: Target, options: Any) -> tuple[Target, list[Target], list[str]]:
    """(resolved target, jump chain nearest first, identity files) for an ssh:// target.

    ``options`` is a ConnectOptions: ``options.ssh_config`` None disables the config; explicit
    ``options.jumps`` replace the target's ProxyJump (but are themselves resolved through the config).
    """
    cfg = load_ssh_config(getattr(options, "ssh_config", None))
    cli_jumps: list[Target] = list(getattr(options, "jumps", []) or [])
    if cfg is None:
        return target, cli_jumps, identity_files_of(target)
    resolved, files, config_jumps = _apply(target, cfg)
    jumps = _expand_chain(cli_jumps or config_jumps, cfg, 0)
    return resolved, jumps, files
