"""Helpers for fleet tests: the CLI as a subprocess, CSV inventories, expected hashes per simulated hostname."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from collector.sim.device import SimDevice
from collector.sim.profile import DeviceProfile
from collector.store.journal import read_journal

SIM_PASSWORD = "fleet-pw-4411"
SIM_ENABLE = "enable123"
ENV = {"SIM_PW": SIM_PASSWORD, "SIM_EN": SIM_ENABLE, "WRONG_PW": "not-the-password"}


def collector(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **ENV, **(env or {})}
    full.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True, env=full,
                          timeout=timeout, check=False)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    return path


@cache
def expected(hostname: str, command: str, show_tech_bytes: int, profile: str = "cisco_ios") -> str:
    p = DeviceProfile.load(profile, show_tech_bytes=show_tech_bytes, hostname=hostname)
    return hashlib.sha256(b"".join(SimDevice(p).expected_output(command))).hexdigest()


def device_runs(fleet_dir: Path) -> dict[str, Path]:
    """device slug -> its one run directory."""
    out = {}
    for folder in sorted((fleet_dir / "devices").iterdir()):
        runs = [p for p in folder.iterdir() if (p / "run.json").is_file()]
        assert len(runs) == 1, (folder, runs)
        out[folder.name] = runs[0]
    return out


def completed_steps(run_dir: Path) -> dict[int, list[dict[str, Any]]]:
    """step number -> its step-completed records (every step once means one record each)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for ev in read_journal(run_dir / "journal.jsonl"):
        if ev["event"] == "step-completed" and ev.get("kind") == "show":
            out.setdefault(ev["step"], []).append(ev)
    return out


def check_device(run_dir: Path, hostname: str, show_tech_bytes: int, commands: list[str]) -> None:
    """Every step once, ok, its file's SHA-256 equal to the simulator's source for that hostname."""
    done = completed_steps(run_dir)
    assert sorted(done) == list(range(1, len(commands) + 1)), (run_dir, sorted(done))
    for step, recs in done.items():
        assert len(recs) == 1, (run_dir, step, len(recs))
        rec = recs[0]
        assert rec["status"] == "ok", rec
        data = (run_dir / rec["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == rec["sha256"] == expected(hostname, rec["command"],
                                                                            show_tech_bytes), (run_dir, step)


def fleet_events(fleet_dir: Path) -> list[dict[str, Any]]:
    return list(read_journal(fleet_dir / "journal.jsonl"))


def load_json(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    assert isinstance(doc, dict)
    return doc
