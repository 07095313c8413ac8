"""What a bundle says about a run beyond its folded journal: the device's hostname and the playbook file.

The hostname comes from the prompt journaled at each (re)connect; the playbook is taken only if its hash matches.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store.journal import read_journal

HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
PLAYBOOK_LIMIT = 1 << 20  # a playbook larger than this is not carried (its hash still is)


def hostname_from_prompt(prompt: str) -> str | None:
    """`R1#`, `R1(config-if)#`, `admin@sw1> `, `user@host:~$ `, `RP/0/RSP0/CPU0:xr1#` -> the host name."""
    lines = [line.strip() for line in prompt.splitlines() if line.strip()]
    if not lines:
        return None
    p = re.sub(r"\s*[#>$%]\s*$", "", lines[-1])
    p = re.sub(r"\(.*\)$", "", p)
    if "@" in p:
        p = re.split(r"[:\s]", p.split("@", 1)[1])[0]
    elif ":" in p:
        p = p.rsplit(":", 1)[1]
    p = p.strip()
    return p if HOSTNAME.fullmatch(p) else None


def device_hostname(journal_path: Path) -> str | None:
    """The hostname in the last prompt the run journaled (`connected` / `reconnected` records)."""
    name: str | None = None
    for ev in read_journal(journal_path):
        if ev.get("event") in ("connected", "reconnected") and isinstance(ev.get("prompt"), str):
            name = hostname_from_prompt(ev["prompt"]) or name
    return name


@dataclass
class PlaybookFile:
    name: str  # the file name only: where it sat on the collecting machine is not the case's business
    path: Path | None  # readable and matching its recorded hash, else None
    note: str | None  # why it is not carried


def find_playbook(info: dict[str, Any]) -> PlaybookFile:
    pb = info.get("playbook") or {}
    recorded = pb.get("path")
    if not isinstance(recorded, str) or not recorded:
        return PlaybookFile("", None, "the run recorded no playbook path")
    path = Path(recorded).expanduser()
    name = path.name
    if not pb.get("sha256"):
        return PlaybookFile(name, None, "the run recorded no playbook hash to check it against")
    try:
        if path.stat().st_size > PLAYBOOK_LIMIT:
            return PlaybookFile(name, None, "the playbook file is too large to carry")
        data = path.read_bytes()
    except OSError:
        return PlaybookFile(name, None, "the playbook file is no longer where the run read it")
    if hashlib.sha256(data).hexdigest() != pb["sha256"]:
        return PlaybookFile(name, None, "the playbook file changed since the run (its hash differs)")
    return PlaybookFile(name, path, None)
