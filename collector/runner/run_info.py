"""What run.json says about a run, as a schema: target, connection choices, credential *sources*, playbook.

The runner writes it at the start; `collector resume` reads it back typed, so a resume reconnects the same way.
Never a secret value: credentials are recorded as where they come from (a variable name, a command, a prompt).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import UsageError


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")  # records written by newer versions still load


class SecretSource(_Record):
    """How one secret is obtained: an environment variable's name, a command, or a prompt."""

    env: str | None = None
    command: str | None = None
    ask: bool = False

    def given(self) -> bool:
        return bool(self.env or self.command or self.ask)


class CredentialRecord(_Record):
    password: SecretSource = SecretSource()
    enable: SecretSource = SecretSource()
    key_passphrase: SecretSource = SecretSource()
    key_file: str | None = None
    otp_command: str | None = None
    jump_passwords: list[str] = Field(default=[], description="VAR (every hop) or HOST=VAR, as given")


class ConnectRecord(_Record):
    """The non-secret connection choices, so `collector resume` reconnects the same way."""

    jump_mode: str = "direct"
    legacy_algorithms: bool = False
    use_agent: bool = False
    ssh_config: bool = True
    send_break: bool = False
    accept_new_host_key: bool = False
    known_hosts: str | None = None
    target_options: dict[str, str] = {}


class PlaybookRecord(_Record):
    name: str = "playbook"
    path: str = ""
    sha256: str | None = None
    platform: str | None = None
    description: str = ""
    vars_overrides: dict[str, str] = {}
    allow_changes: bool = False


class RunInfo(_Record):
    """run.json, typed. Fields the runner adds at the end (status, link, peak RSS) stay open-ended."""

    format: int = 1
    run_id: str = ""
    collector_version: str = ""
    target: str
    target_url: str | None = None
    transport: str = ""
    jumps: list[str] = []
    connect: ConnectRecord = ConnectRecord()
    credentials: CredentialRecord = CredentialRecord()
    platform: str | None = None
    detection: dict[str, Any] | None = Field(default=None, description="platform: auto: what was found and why")
    playbook: PlaybookRecord = PlaybookRecord()
    case: str | None = None
    allow_changes: bool = Field(default=False, description="--allow-changes was given")
    collector_host: str = ""
    started_at: str | None = None
    status: str = "running"
    link: dict[str, Any] = {}


def read_run_info(data: dict[str, Any]) -> RunInfo:
    """run.json, typed; a file that does not read as one (damaged or edited) is a clean usage error."""
    try:
        return RunInfo.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"run.json does not read as a collector run ({where}: {first['msg']})",
                         hint="pass the run directory `collector run` printed; an edited run.json cannot be resumed"
                         ) from None
