"""What a job becomes on the worker: the playbook from its carried text (content-addressed, hash checked) unless
the same file is here already, the fleet's context with credentials resolved HERE from their references, and
whether the worker shares the submitter's runs directory (then it writes into the submitter's fleet directory).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import UsageError
from ..fleet.creds import Fallback
from ..fleet.device_run import JobContext
from ..fleet.fleetdir import FleetDir
from ..fleet.job import DeviceJob
from ..fleet.limits import Limits
from ..runner.run_info import CredentialRecord, SecretSource
from ..secrets import Masker, Secret, secret_from_env
from ..store.fsutil import atomic_write_bytes
from .logsetup import mask_secret
from .payload import Payload
from .seal import file_sha256

_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def localize(p: Payload, runs_dir: Path) -> DeviceJob:
    """The job with a playbook path that exists on this machine and holds exactly the carried text."""
    if not p.playbook_ok():
        raise UsageError(f"the playbook carried for {p.job.device} does not match its SHA-256",
                         hint="the message was altered on the way; submit the fleet again")
    if not p.job.playbook.sha256:  # a library name: resolved on this worker after detection (device_run)
        return p.job
    here = Path(p.job.playbook.path)
    try:
        if here.is_file() and file_sha256(here) == p.job.playbook.sha256:
            return p.job
    except OSError:
        pass
    name = here.name if _NAME.fullmatch(here.name) and here.name not in (".", "..") else "playbook.yaml"
    cached = runs_dir / ".playbooks" / p.job.playbook.sha256 / name
    if not (cached.is_file() and file_sha256(cached) == p.job.playbook.sha256):
        atomic_write_bytes(cached, p.playbook_text.encode())
    return p.job.model_copy(update={"playbook": p.job.playbook.model_copy(update={"path": str(cached)})})


def shares_fleet_dir(fleet_path: Path, fid: str) -> bool:
    """The submitter's fleet directory is here (a shared runs directory): its fleet.json names this fleet."""
    try:
        return bool(json.loads((fleet_path / "fleet.json").read_text()).get("fleet_id") == fid)
    except (OSError, ValueError, AttributeError):
        return False


def _resolve(src: SecretSource, label: str) -> Secret | None:
    from ..ui.credentials import secret_from_source

    if src.ask:
        raise UsageError(f"the fleet asks for the {label} on a terminal, which a worker does not have",
                         hint="give it as a reference the workers resolve: --password-env VAR (set on the workers)")
    return secret_from_source(label, src.env, src.command, False)


def fallback(record: CredentialRecord) -> Fallback:
    """The run's own credential flags (references), resolved on this worker."""
    from ..ui.credentials import otp_provider

    jumps: dict[str, Secret] = {}
    for spec in record.jump_passwords:
        host, _, var = spec.rpartition("=")
        jumps[host] = secret_from_env(var, "jump host password")
    return Fallback(password=_resolve(record.password, "password"), enable=_resolve(record.enable, "enable secret"),
                    key_passphrase=_resolve(record.key_passphrase, "key passphrase"),
                    otp_provider=otp_provider(record.otp_command, False), jump_passwords=jumps)


def build_context(fleet_path: Path, p: Payload) -> JobContext:
    fb = fallback(p.job.fallback)
    ctx = JobContext(FleetDir(fleet_path), Limits(p.logins_per_host, p.logins_per_aaa), fallback=fb)

    def remember(_masker: Masker) -> None:  # the worker's log never shows a secret it resolved
        for secret in [*ctx.secrets.all(), fb.password, fb.enable, fb.key_passphrase, *fb.jump_passwords.values()]:
            mask_secret(secret)

    for secret in (fb.password, fb.enable, fb.key_passphrase, *fb.jump_passwords.values()):
        mask_secret(secret)
    ctx.known_masks.append(remember)
    return ctx
