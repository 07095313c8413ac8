"""From selected inventory devices to device jobs: platform, path (jumps, line), variables, credential references.

A device whose platform is unknown or differs from the playbook's family is left out and said so (--platform
forces one platform on all); each job is checked by the read-only guard here (for --dry-run) and again before
its device is contacted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import CollectorError
from ..runner.run_info import ConnectRecord, CredentialRecord
from ..store.rundir import slugify
from ..target import parse_target
from .job import DeviceJob, JobOptions, PlaybookRef, SecretRefModel
from .limits import line_of
from .model import Device
from .platform_names import compatible

if TYPE_CHECKING:
    from ..playbook.loader import LoadedPlaybook


@dataclass
class FleetPlan:
    jobs: list[DeviceJob]
    left_out: list[tuple[Device, str]] = field(default_factory=list)  # device, why
    refused: dict[str, str] = field(default_factory=dict)  # device -> why the guard refuses it


@dataclass
class Library:
    """A library name (`tac/high-cpu`) run on every device as its platform's version of it."""

    name: str
    overrides: dict[str, str] = field(default_factory=dict)

    def load(self, platform: str) -> LoadedPlaybook:
        return _load_library(self.name, platform, tuple(sorted(self.overrides.items())))


@functools.cache
def _load_library(name: str, platform: str, overrides: tuple[tuple[str, str], ...]) -> LoadedPlaybook:
    from ..playbook import load_playbook
    from ..playbook.library import find_playbook

    return load_playbook(find_playbook(name, platform), dict(overrides))


@dataclass
class PlanInputs:
    """What the command line adds to the inventory: fallbacks, overrides and shared options."""

    fleet_id: str
    loaded: LoadedPlaybook | None  # None: a library name (`library`), resolved per device platform
    overrides: dict[str, str] = field(default_factory=dict)  # --var
    platform: str | None = None  # --platform: forced on every device
    connect: ConnectRecord = field(default_factory=ConnectRecord)
    jumps: list[str] = field(default_factory=list)  # --jump, for devices the inventory gives none
    fallback: CredentialRecord = field(default_factory=CredentialRecord)
    options: JobOptions = field(default_factory=JobOptions)
    library: Library | None = None


def _slugs(devices: list[Device]) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for d in devices:
        base = slugify(d.name, 60)
        slug, n = base, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        out[d.name] = slug
    return out


def _vars(device: Device, declared: set[str], overrides: dict[str, str]) -> dict[str, str]:
    from ..playbook.variables import render_value

    values = {k: render_value(v) for k, v in device.data.items() if k in declared and not isinstance(v, dict | list)}
    values.update({k: v for k, v in overrides.items()})
    return values


def _connect(device: Device, base: ConnectRecord) -> ConnectRecord:
    fields: dict[str, Any] = {k: v for k, v in device.connect.items() if k in ConnectRecord.model_fields}
    fields["jump_mode"] = device.jump_mode if device.jump_mode != "direct" else base.jump_mode
    fields["target_options"] = dict(parse_target(device.target).options)
    return base.model_copy(update=fields)


def platform_for(device: Device, inputs: PlanInputs) -> tuple[str | None, str | None]:
    """(platform, None) or (None, why the device is left out)."""
    if inputs.platform:
        return inputs.platform, None
    if device.platform_given and device.platform is None:
        return None, f"platform {device.platform_given!r} is not one collector knows (`collector platforms`)"
    if inputs.loaded is None:  # a library name: each device runs its own platform's version
        if device.platform is None:
            return None, "no platform in the inventory (give one, `auto` to detect it, or --platform NAME)"
        return device.platform, None
    wanted = inputs.loaded.model.platform
    platform = device.platform or wanted
    if not compatible(platform, wanted):
        return None, f"platform {platform} does not run a {wanted} playbook (--platform NAME forces one)"
    return platform, None


def _playbook(platform: str, inputs: PlanInputs) -> tuple[PlaybookRef, set[str]]:
    """The device's playbook (a library name resolves per platform; `auto` after detection) and its variables."""
    from ..platforms import AUTO

    loaded = inputs.loaded
    if loaded is None:
        assert inputs.library is not None
        if platform == AUTO:  # sha256 "": a library name, resolved once the device's platform is detected
            return PlaybookRef(name=slugify(inputs.library.name, 60), path=inputs.library.name, sha256=""), set()
        loaded = inputs.library.load(platform)
    return (PlaybookRef(name=loaded.model.name, path=str(loaded.path.resolve()), sha256=loaded.sha256),
            set(loaded.model.vars))


def make_plan(devices: list[Device], inputs: PlanInputs) -> FleetPlan:
    slugs = _slugs(devices)
    plan = FleetPlan([])
    for d in devices:
        platform, why = platform_for(d, inputs)
        if platform is None:
            plan.left_out.append((d, why or "left out"))
            continue
        try:
            pb, declared = _playbook(platform, inputs)
        except CollectorError as exc:  # the library has no version of it for this platform
            plan.left_out.append((d, exc.message))
            continue
        plan.jobs.append(DeviceJob(
            fleet_id=inputs.fleet_id, device=d.name, slug=slugs[d.name], source=d.source, target=d.target,
            platform=platform, groups=list(d.groups), jumps=list(d.jumps) or list(inputs.jumps),
            connect=_connect(d, inputs.connect),
            credentials={k: SecretRefModel(**ref.to_json()) for k, ref in d.credentials.items()},
            fallback=inputs.fallback, key_file=d.key_file, vars=_vars(d, declared, inputs.overrides), aaa=d.aaa,
            queue=d.queue, line=line_of(d.target), playbook=pb, options=inputs.options,
        ))
    plan.refused = guard_verdicts(plan.jobs, inputs)
    return plan


def guard_verdicts(jobs: list[DeviceJob], inputs: PlanInputs) -> dict[str, str]:
    """Device -> why the read-only guard (or the playbook with its variables) refuses it; checked once per case."""
    from .playbooks import PlaybookCache

    cache = PlaybookCache()
    refused: dict[str, str] = {}
    for job in jobs:
        if cache.deferred(job):
            continue  # checked after login, for the platform the device turns out to be
        try:
            cache.checked(job)
        except CollectorError as exc:
            refused[job.device] = exc.message
    return refused
