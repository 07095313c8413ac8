"""What `collector run --inventory` was asked (typed flags of a fleet run), shared by the local and the
--via (workers) paths."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .flags import ConnectFlags, CredentialFlags

DEFAULT_WORKERS = min(32, 4 * (os.cpu_count() or 2))


@dataclass
class FleetArgs:
    playbook: str
    inventory: Path
    creds: CredentialFlags
    connect: ConnectFlags
    limits: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    workers: int = DEFAULT_WORKERS
    dry_run: bool = False
    logins_per_host: int = 8
    logins_per_aaa: int = 10
    platform: str | None = None
    var: list[str] = field(default_factory=list)
    allow_changes: bool = False
    case: str | None = None
    runs_dir: Path = Path("runs")
    chunk_size: int = 1 << 20
    reconnect_attempts: int = 5
    reconnect_for: float = 1800.0
    login_timeout: float = 60.0
    bundle: bool = False
    bundle_dir: Path | None = None
    as_json: bool = False
    via: str | None = None  # a Redis broker: the devices run on `collector worker`s
    timeout: float | None = None  # --via: give up on devices not finished by then
