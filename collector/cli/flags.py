"""Typed command-line choices for `run` and `resume`: how credentials are obtained, how to connect.

Built explicitly from each command's parameters; recorded in run.json (never a secret value) and read back by
`collector resume`, where options given again override the recorded ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:  # pydantic models, loaded when a command runs (fast start-up)
    from ..credentials import Credentials
    from ..runner.run_info import ConnectRecord, CredentialRecord, SecretSource
    from ..secrets import Secret
    from ..target import Target
    from ..transports.base import ConnectOptions


def source(env: str | None, command: str | None, ask: bool, label: str) -> SecretSource:
    """One secret's source; giving it two ways is a usage error."""
    from ..runner.run_info import SecretSource

    if len([x for x in (env, command, ask or None) if x]) > 1:
        raise UsageError(f"give the {label} one way only (env, command or prompt)")
    return SecretSource(env=env, command=command, ask=ask)


def overlay(given: SecretSource, recorded: SecretSource) -> SecretSource:
    return given if given.given() else recorded


def resolve(src: SecretSource, label: str, interactive: bool) -> Secret | None:
    """The secret itself, from where its source says (asked on a terminal only)."""
    from ..secrets import MASK
    from ..ui.credentials import secret_from_source

    if src.command and MASK in src.command:
        raise UsageError(f"the recorded {label} command printed a secret written in the command itself, so it "
                         "was not kept", hint=f"give the {label} again (e.g. --{_flag(label)}-env VAR)")
    return secret_from_source(label, src.env, src.command, src.ask and interactive, asked=src.ask)


def _flag(label: str) -> str:
    return {"enable secret": "enable", "key passphrase": "key-passphrase"}.get(label, label.split()[0])


@dataclass
class CredentialFlags:
    """How the command line said to obtain each secret (never a value)."""

    record: CredentialRecord

    def over(self, recorded: CredentialRecord) -> CredentialFlags:
        """These flags where given, the recorded ones elsewhere (resume)."""
        from ..runner.run_info import CredentialRecord

        r, g = recorded, self.record
        return CredentialFlags(CredentialRecord(
            password=overlay(g.password, r.password), enable=overlay(g.enable, r.enable),
            key_passphrase=overlay(g.key_passphrase, r.key_passphrase), key_file=g.key_file or r.key_file,
            otp_command=g.otp_command or r.otp_command, jump_passwords=g.jump_passwords or r.jump_passwords,
        ))

    def build(self, username: str | None, interactive: bool) -> Credentials:
        from ..credentials import Credentials
        from ..secrets import MASK
        from ..ui.credentials import otp_provider

        r = self.record
        if r.otp_command and MASK in r.otp_command:
            raise UsageError("the recorded --otp-command printed a one-time password written in the command itself, "
                             "so it was not kept", hint="give --otp-command again, or answer the OTP prompt")
        return Credentials(
            username=username, password=resolve(r.password, "password", interactive),
            enable=resolve(r.enable, "enable secret", interactive), key_file=r.key_file,
            key_passphrase=resolve(r.key_passphrase, "key passphrase", interactive),
            otp_provider=otp_provider(r.otp_command, interactive),
        )


@dataclass
class ConnectFlags:
    """The command line's connection options: jump host and SSH settings."""

    jump: str | None
    record: ConnectRecord

    def options(self, target: Target, creds: Credentials, jump_passwords: list[str]) -> ConnectOptions:
        from ..target import parse_jumps
        from ..transports.base import ConnectOptions

        r = self.record
        if r.jump_mode not in ("direct", "shell"):
            raise UsageError(f"--jump-mode {r.jump_mode!r}: use direct or shell")
        opts = ConnectOptions(
            credentials=creds, accept_new_host_key=r.accept_new_host_key, known_hosts=r.known_hosts,
            legacy_algorithms=r.legacy_algorithms, use_agent=r.use_agent, jumps=parse_jumps(self.jump),
            jump_mode=r.jump_mode, ssh_config="~/.ssh/config" if r.ssh_config else None,
        )
        opts.hop_credentials = hop_credentials(jump_passwords, opts.jumps, creds)
        return opts


def hop_credentials(specs: list[str], jumps: list[Target], creds: Credentials) -> dict[str, Credentials | Secret]:
    """--jump-password-env VAR | HOST=VAR → the per-hop table the SSH jump code looks up."""
    from ..secrets import secret_from_env

    table: dict[str, Credentials | Secret] = {}
    for spec in specs:
        host, _, var = spec.rpartition("=")
        secret = secret_from_env(var, "jump host password")
        creds.masker.add(secret)
        for hop in jumps:
            if not host or host in (hop.host, hop.display(), f"{hop.host}:{hop.port}"):
                table[hop.display()] = secret
    return table
