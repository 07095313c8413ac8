"""A device job's credentials: the inventory's references resolved (each once per fleet, OTPs each time they are
asked), else the run's own flags; and what the device's run.json records about them (sources, never values).
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ..credentials import Credentials
from ..runner.run_info import CredentialRecord, SecretSource
from ..secrets import Secret
from .job import DeviceJob, SecretRefModel
from .refs import SecretRef, resolve

LABELS = {"password": "password", "enable": "enable secret", "key_passphrase": "key passphrase", "otp": "otp",
          "jump_password": "jump host password"}


@dataclass
class Fallback:
    """The run's own credential flags, resolved once in the main thread (prompts included)."""

    password: Secret | None = None
    enable: Secret | None = None
    key_passphrase: Secret | None = None
    otp_provider: Callable[[str], Secret] | None = None
    jump_passwords: dict[str, Secret] = field(default_factory=dict)  # "" (every hop) or HOST -> secret


class SecretCache:
    """Resolves inventory references, each once (a password manager is asked once per fleet, not per device)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, SecretRef], Secret] = {}
        self._busy: dict[tuple[str, SecretRef], threading.Lock] = {}

    def get(self, model: SecretRefModel, label: str) -> Secret:
        ref = _ref(model)
        key = (label, ref)
        with self._lock:
            if key in self._values:
                return self._values[key]
            busy = self._busy.setdefault(key, threading.Lock())
        with busy:  # one resolution per reference, the others wait for it
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = resolve(ref, label)
            with self._lock:
                self._values[key] = value
            return value

    def all(self) -> list[Secret]:
        with self._lock:
            return list(self._values.values())


def _ref(model: SecretRefModel) -> SecretRef:
    return SecretRef(env=model.env) if model.env else SecretRef(argv=tuple(model.command or ()))


def _source(model: SecretRefModel | None, fallback: SecretSource) -> SecretSource:
    if model is None:
        return fallback
    if model.env:
        return SecretSource(env=model.env)
    return SecretSource(command=shlex.join(model.command or []))


def record(job: DeviceJob) -> CredentialRecord:
    """run.json's credential sources for this device (`collector resume RUN_DIR` asks the same way)."""
    c, f = job.credentials, job.fallback
    otp = c.get("otp")
    jump = c.get("jump_password")
    return CredentialRecord(
        password=_source(c.get("password"), f.password), enable=_source(c.get("enable"), f.enable),
        key_passphrase=_source(c.get("key_passphrase"), f.key_passphrase), key_file=job.key_file or f.key_file,
        otp_command=shlex.join(otp.command or []) if otp and otp.command else f.otp_command,
        jump_passwords=[jump.env] if jump and jump.env else list(f.jump_passwords),
    )


def build(job: DeviceJob, cache: SecretCache, fallback: Fallback, username: str | None) -> tuple[
        Credentials, dict[str, Credentials | Secret]]:
    """The device's Credentials and per-hop passwords (keys as ConnectOptions.hop_credentials expects)."""
    c = job.credentials

    def secret(name: str, default: Secret | None) -> Secret | None:
        return cache.get(c[name], LABELS[name]) if name in c else default

    otp_provider = fallback.otp_provider
    if "otp" in c:
        otp_ref = _ref(c["otp"])
        otp_provider = lambda prompt: resolve(otp_ref, "otp")  # noqa: E731 - asked each time, never cached
    creds = Credentials(username=username, password=secret("password", fallback.password),
                        enable=secret("enable", fallback.enable), key_file=job.key_file or job.fallback.key_file,
                        key_passphrase=secret("key_passphrase", fallback.key_passphrase), otp_provider=otp_provider)
    hops: dict[str, Credentials | Secret] = {}
    jump = secret("jump_password", None)
    table = {"": jump} if jump is not None else fallback.jump_passwords
    for url in job.jumps:
        from ..target import parse_target

        hop = parse_target(url)
        for host, value in table.items():
            if not host or host in (hop.host, hop.display(), f"{hop.host}:{hop.port}"):
                creds.masker.add(value)
                hops[hop.display()] = value
    return creds, hops
