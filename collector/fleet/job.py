"""The device job: everything one device's run needs, as JSON (the fleet directory keeps the list; a
distributed worker receives one). It names the playbook by path and hash, and credentials by REFERENCE only.

Idempotent by (fleet id, device): running a job whose device already finished changes nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..runner.run_info import ConnectRecord, CredentialRecord


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SecretRefModel(_Model):
    env: str | None = None
    command: list[str] | None = None  # argv, never a shell line


class PlaybookRef(_Model):
    name: str
    path: str
    sha256: str


class JobOptions(_Model):
    """Run options every device of a fleet shares."""

    case: str | None = None
    allow_changes: bool = False
    chunk_size: int = 1 << 20
    reconnect_attempts: int = 5
    reconnect_for: float = 1800.0
    login_timeout: float = 60.0


class DeviceJob(_Model):
    fleet_id: str
    device: str  # the inventory name
    slug: str  # its folder under devices/ (unique in the fleet, safe as a path component)
    source: str = ""  # inventory file:line
    target: str  # URL, never a secret in it
    platform: str
    groups: list[str] = []
    jumps: list[str] = []
    connect: ConnectRecord = ConnectRecord()
    credentials: dict[str, SecretRefModel] = Field(default={}, description="password, enable, key_passphrase, "
                                                   "otp, jump_password: references from the inventory")
    fallback: CredentialRecord = CredentialRecord()  # the run's --password-env/--enable-env ... for the rest
    key_file: str | None = None
    vars: dict[str, str] = {}  # the playbook variables this device sets (inventory, then --var)
    aaa: str | None = None
    queue: str | None = None
    line: str | None = None  # an exclusive line (modem, serial port, console server port): one call at a time
    playbook: PlaybookRef
    options: JobOptions = JobOptions()


class JobResult(_Model):
    """What became of one device's job."""

    device: str
    status: str  # run status, or not-started / refused
    exit_code: int
    error: str | None = None
    hint: str | None = None
    run_dir: str | None = None  # relative to the fleet directory
    steps: int = 0
    steps_ok: int = 0
    bytes: int = 0
    duration: float = 0.0
    worker: str | None = None  # the `collector worker` that ran it (distributed fleets)

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "completed-with-errors")
