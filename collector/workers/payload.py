"""The task's one argument: the device job (target, credential REFERENCES, options), the playbook's text with
its hash, and the submitter's fleet directory name. JSON only; nothing secret can be put in it (no such field).
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict, field_validator

from ..fleet.job import DeviceJob

FORMAT = 1
_FLEET_DIR = re.compile(r"fleet-[A-Za-z0-9._-]{1,120}")


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: int = FORMAT
    job: DeviceJob
    playbook_text: str
    fleet_dir: str  # the submitter's fleet directory name: a worker sharing its runs directory writes into it
    submitter: str = ""  # host name of the submitter (shown by `fleet status`)
    logins_per_host: int = 8  # the fleet's login limits, applied per worker
    logins_per_aaa: int = 10

    @field_validator("fleet_dir")
    @classmethod
    def _dir_name(cls, value: str) -> str:
        if not _FLEET_DIR.fullmatch(value) or ".." in value:
            raise ValueError("not a fleet directory name")
        return value

    def playbook_ok(self) -> bool:
        """The carried text is the playbook the fleet was planned with (its SHA-256 as in the job); or, for a device
        of platform auto, nothing is carried and the job names a library playbook (`tac/high-cpu`) that the worker
        takes from its own library once the platform is detected (its SHA-256 is recorded in the run)."""
        if not self.job.playbook.sha256:
            from ..playbook.library import is_family

            return self.playbook_text == "" and is_family(self.job.playbook.path)
        return hashlib.sha256(self.playbook_text.encode()).hexdigest() == self.job.playbook.sha256
