"""The fleet directory: fleet.json (the plan: every device job), journal.jsonl (fleet events), and under
devices/<device>/ each device's own run directory in the usual layout.

    runs/fleet-<UTC>-<playbook>/
      fleet.json
      journal.jsonl
      devices/<device>/<UTC>-<target>-<playbook>/   run.json, journal.jsonl, raw/, steps/ ... (unchanged)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import StoreError
from ..jsonfmt import listing_json
from ..store.fsutil import atomic_write_bytes, utc_now, utc_stamp
from ..store.rundir import slugify
from .job import DeviceJob
from .journal import FleetJournal

FLEET_FORMAT = 1
FLEET_JSON = "fleet.json"


class FleetSpec(BaseModel):
    """fleet.json: what was asked (inventory, selection, options) and the device jobs; never a secret value."""

    model_config = ConfigDict(extra="ignore")

    format: int = FLEET_FORMAT
    fleet_id: str
    created_at: str
    playbook: str
    inventory: str
    inventory_kind: str = ""
    limits: list[str] = []
    filters: list[str] = []
    workers: int = 10
    logins_per_host: int = 8
    logins_per_aaa: int = 10
    left_out: list[dict[str, str]] = []  # {"device", "why"}
    via: str | None = None  # distributed fleets: the broker (URL without its password) the jobs went through
    jobs: list[DeviceJob]


@dataclass
class FleetDir:
    path: Path

    @property
    def spec_path(self) -> Path:
        return self.path / FLEET_JSON

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.jsonl"

    def device_dir(self, job: DeviceJob) -> Path:
        return self.path / "devices" / job.slug

    @staticmethod
    def is_fleet(path: Path) -> bool:
        return (Path(path) / FLEET_JSON).is_file()

    @classmethod
    def create(cls, runs_dir: Path, playbook_name: str, spec: FleetSpec) -> FleetDir:
        base = f"fleet-{utc_stamp()}-{slugify(playbook_name)}"
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
            for n in range(100):
                path = runs_dir / (base if n == 0 else f"{base}-{n}")
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover
                raise StoreError(f"cannot find a free fleet directory name under {runs_dir}")
            (path / "devices").mkdir()
        except OSError as exc:
            raise StoreError(f"cannot create a fleet directory under {runs_dir}: {exc.strerror}") from exc
        fd = cls(path)
        fd.write_spec(spec)
        return fd

    @classmethod
    def open(cls, path: Path) -> FleetDir:
        fd = cls(Path(path))
        if not cls.is_fleet(fd.path):
            raise StoreError(f"{path} is not a fleet directory (no {FLEET_JSON})",
                             hint="pass the directory `collector run --inventory` printed, e.g. runs/fleet-...")
        return fd

    def write_spec(self, spec: FleetSpec) -> None:
        data = listing_json(spec.model_dump(mode="json"))  # a job per line, by the C encoder (1,000 devices)
        atomic_write_bytes(self.spec_path, data.encode())

    def read_spec(self) -> FleetSpec:
        try:
            return FleetSpec.model_validate(json.loads(self.spec_path.read_text()))
        except (OSError, ValueError, ValidationError) as exc:
            raise StoreError(f"cannot read {self.spec_path}: {str(exc).splitlines()[0]}") from None

    def journal(self) -> FleetJournal:
        return FleetJournal(self.journal_path)

    def run_dir(self, job: DeviceJob) -> Path | None:
        """The device's run directory, if it has one (the newest, should there ever be two)."""
        folder = self.device_dir(job)
        if not folder.is_dir():
            return None
        runs = sorted(p for p in folder.iterdir()
                      if p.is_dir() and (p / "run.json").is_file() and not p.name.endswith(".no-journal"))
        return runs[-1] if runs else None

    def rel(self, path: Path | None) -> str | None:
        return os.path.relpath(path, self.path) if path is not None else None


def new_spec(**fields: Any) -> FleetSpec:
    return FleetSpec(created_at=utc_now(), **fields)
