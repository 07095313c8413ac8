"""The system OpenSSH client's command lines: what `ssh -G` resolves, and the argv of a session or an exec command.

Argv lists only (never a shell line); the host always follows `--`; no secret is ever part of an argv.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConnectError, UsageError
from ..target import Target
from .base import ConnectOptions
from .client_failures import classify_client_text, last_line
from .pty_process import ProgramNotFound, resolve_program

PROBE_TIMEOUT = 20.0
DEFAULT_CONFIG = "~/.ssh/config"
#: keepalives added when the user's config has none, so a dead link ends ssh (and the runner reconnects)
SERVER_ALIVE = ("ServerAliveInterval=15", "ServerAliveCountMax=4")


@dataclass(frozen=True)
class Resolved:
    """What `ssh -G` says this connection will really use (after ~/.ssh/config, Match blocks and -o)."""

    hostname: str
    user: str
    port: int
    proxy: str | None  # "ProxyCommand" | "ProxyJump" | None (the command itself is never recorded)
    control_master: str
    control_path: bool
    server_alive: int
    log_level: str
    connect_timeout: bool = False  # the config sets one

    @classmethod
    def parse(cls, text: str) -> Resolved:
        conf: dict[str, str] = {}
        for line in text.splitlines():
            key, _, value = line.strip().partition(" ")
            conf.setdefault(key.lower(), value.strip())
        proxy = None
        if conf.get("proxycommand", "none").lower() != "none":
            proxy = "ProxyCommand"
        elif conf.get("proxyjump", "none").lower() != "none":
            proxy = "ProxyJump"
        path = conf.get("controlpath", "none")
        return cls(
            hostname=conf.get("hostname", ""),
            user=conf.get("user", ""),
            port=int(conf.get("port", "22") or 22),
            proxy=proxy,
            control_master=conf.get("controlmaster", "false").lower(),
            control_path=path.lower() != "none" and bool(path),
            server_alive=int(conf.get("serveraliveinterval", "0") or 0),
            log_level=conf.get("loglevel", "INFO").upper(),
            connect_timeout=conf.get("connecttimeout", "none").lower() != "none",
        )

    @property
    def multiplexing(self) -> bool:
        """The user's config shares connections (a ControlPath; ControlMaster may be no: then only joins)."""
        return self.control_path

    def info(self) -> dict[str, Any]:
        return {"host": self.hostname, "user": self.user, "port": self.port, "proxy": self.proxy,
                "control_master": self.control_master}


def find_ssh(env: Mapping[str, str]) -> str:
    try:
        return resolve_program("ssh", env)
    except ProgramNotFound:
        raise UsageError("the OpenSSH client `ssh` is not installed (not found on PATH)",
                         hint="install openssh-client, or use ssh:// (collector's own SSH client)") from None


def config_file(target: Target, options: ConnectOptions) -> str | None:
    """The ssh_config for `-F`: ?config=FILE, `none` with --no-ssh-config, else ssh's own default (None)."""
    given = target.option("config")
    if given:
        return os.path.expanduser(given)
    if options.ssh_config is None:
        return "none"
    if os.path.expanduser(options.ssh_config) != os.path.expanduser(DEFAULT_CONFIG):
        return os.path.expanduser(options.ssh_config)
    return None


def _quoted(path: str) -> str:
    if '"' in path or "\n" in path:
        raise UsageError(f"cannot pass the file name {path!r} to ssh", hint="use a path without quotes")
    return f'"{os.path.expanduser(path)}"'


def common_args(target: Target, options: ConnectOptions) -> list[str]:
    """Options every ssh invocation for this target shares (config, port, user, host-key policy, key)."""
    args: list[str] = []
    config = config_file(target, options)
    if config is not None:
        args += ["-F", config]
    if target.port:
        args += ["-p", str(target.port)]
    if target.user:
        args += ["-l", target.user]
    # never answered yes: an unknown key fails (or, when asked, is trusted on first use); a changed key fails
    args += ["-o", "StrictHostKeyChecking=" + ("accept-new" if options.accept_new_host_key else "yes")]
    if options.known_hosts:
        files = [options.known_hosts] + ([options.system_known_hosts] if options.system_known_hosts else [])
        args += ["-o", "UserKnownHostsFile=" + " ".join(_quoted(f) for f in files)]
    if options.credentials.key_file:
        args += ["-i", os.path.expanduser(options.credentials.key_file)]
    return args


def answers_prompts(options: ConnectOptions) -> bool:
    """Whether collector can answer ssh's prompts (password, OTP, key passphrase): else BatchMode=yes."""
    creds = options.credentials
    return bool(creds.password or creds.key_passphrase or creds.otp_provider is not None)


def tuning(resolved: Resolved, connect_timeout: float | None = None) -> list[str]:
    """Additions only where the user's config leaves a gap: a connect timeout, keepalives, and a log level that
    shows failures."""
    args: list[str] = []
    if connect_timeout and not resolved.connect_timeout:
        args += ["-o", f"ConnectTimeout={max(1, round(connect_timeout))}"]
    if resolved.server_alive == 0:
        for opt in SERVER_ALIVE:
            args += ["-o", opt]
    if resolved.log_level in ("QUIET", "FATAL"):
        args += ["-o", "LogLevel=ERROR"]
    return args


def session_argv(ssh: str, common: list[str], host: str, *, log: str, batch: bool, resolved: Resolved,
                 control_path: str | None, connect_timeout: float | None = None) -> list[str]:
    """The interactive session: a pty (-tt), ssh's own messages to `log`; our ControlPath when the user has none."""
    argv = [ssh, *common, "-tt", "-E", log, "-o", f"BatchMode={'yes' if batch else 'no'}",
            *tuning(resolved, connect_timeout)]
    if control_path is not None:
        argv += ["-o", "ControlMaster=yes", "-o", f"ControlPath={control_path}", "-o", "ControlPersist=no"]
    return [*argv, "--", host]


def exec_argv(ssh: str, common: list[str], host: str, command: str, *, log: str, resolved: Resolved,
              control_path: str | None) -> list[str]:
    """One command, no pty (-T), no prompts (BatchMode): over the session's shared connection when there is one."""
    argv = [ssh, *common, "-T", "-E", log, "-o", "BatchMode=yes", "-o", "ControlMaster=no", *tuning(resolved)]
    if control_path is not None:
        argv += ["-o", f"ControlPath={control_path}"]
    return [*argv, "--", host, command]


def _probe(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=dict(env),
                              timeout=PROBE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ConnectError(f"`ssh {argv[1]}` did not answer within {PROBE_TIMEOUT:.0f}s",
                           hint="a Match exec or ProxyCommand in your ssh config may hang") from None


def resolve(ssh: str, common: list[str], host: str, env: Mapping[str, str]) -> Resolved:
    """`ssh -G`: the configuration ssh will really use; a broken config is a UsageError naming ssh's line."""
    done = _probe([ssh, "-G", *common, "--", host], env)
    if done.returncode != 0:
        failure = classify_client_text(done.stderr)
        line = failure.line if failure else last_line(done.stderr) or f"exit status {done.returncode}"
        raise UsageError(f"ssh cannot use its configuration for {host}: {line}",
                         hint="fix the ssh_config (try `ssh -G HOST`), or pass another with ?config=FILE")
    return Resolved.parse(done.stdout.decode("utf-8", "replace"))


def client_version(ssh: str, env: Mapping[str, str]) -> str:
    """`ssh -V` (e.g. OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.11): what the manifest names as the client."""
    done = _probe([ssh, "-V"], env)
    return last_line(done.stderr or done.stdout)[:120]


def master_running(ssh: str, common: list[str], host: str, env: Mapping[str, str]) -> bool:
    """`ssh -O check`: a ControlMaster of the user's config is up, so a new session joins it (multiplexed)."""
    return _probe([ssh, *common, "-O", "check", "--", host], env).returncode == 0
