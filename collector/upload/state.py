"""The resumable upload state `<bundle>.upload.json`, kept next to the bundle and rewritten atomically.

It records per destination the part size, the parts plan and which parts the server confirmed; never a secret.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UploadError
from .parts import PartsPlan

STATE_FORMAT = "collector-upload-state/1"


def state_path(bundle: Path) -> Path:
    return bundle.with_name(bundle.name + ".upload.json")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class DestState:
    """Progress towards one destination URL (credentials stripped from the URL)."""

    url: str
    scheme: str
    case: str
    part_size: int  # https: bytes per numbered part; 0 = the whole bundle in one PUT (the default)
    plan: dict[str, Any] | None = None
    confirmed: dict[str, dict[str, Any]] = field(default_factory=dict)  # part name -> size, sha256, status, at
    manifest_confirmed: bool = False
    remote_path: str = ""  # sftp: file being appended; tus: upload URL (Location)
    remote_offset: int = 0  # sftp/tus: bytes the server has, as last seen
    sent_upto: int = 0  # sftp/tus: high-water mark of the offsets written (bytes below it, written again, are re-sent)
    bytes_sent: int = 0  # cumulative over all runs, including re-sent bytes
    bytes_resent: int = 0  # cumulative bytes that were sent in attempts that failed
    runs: int = 0
    complete: bool = False
    started: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    last_error: str = ""

    def parts_plan(self) -> PartsPlan | None:
        return PartsPlan.from_json(self.plan) if self.plan else None


@dataclass
class UploadState:
    bundle_name: str
    bundle_size: int
    bundle_mtime_ns: int
    bundle_sha256: str = ""
    last_url: str = ""
    destinations: dict[str, DestState] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "bundle": {
                "name": self.bundle_name,
                "size": self.bundle_size,
                "mtime_ns": self.bundle_mtime_ns,
                "sha256": self.bundle_sha256,
            },
            "last_url": self.last_url,
            "destinations": {url: asdict(d) for url, d in self.destinations.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadState:
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unknown upload state format {data.get('format')!r}")
        b = data["bundle"]
        st = cls(str(b["name"]), int(b["size"]), int(b["mtime_ns"]), str(b.get("sha256", "")), str(data["last_url"]))
        for url, d in data.get("destinations", {}).items():
            st.destinations[url] = DestState(**d)
        return st

    def same_file(self, bundle: Path) -> bool:
        s = bundle.stat()
        return s.st_size == self.bundle_size and s.st_mtime_ns == self.bundle_mtime_ns


def load_state(bundle: Path) -> UploadState | None:
    path = state_path(bundle)
    try:
        data = json.loads(path.read_text())
        return UploadState.from_json(data)
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise UploadError(
            f"upload state {path} is unreadable: {type(exc).__name__}",
            hint=f"move {path.name} aside to start the upload afresh (parts already on the case are re-sent)",
        ) from exc


def new_state(bundle: Path) -> UploadState:
    s = bundle.stat()
    return UploadState(bundle.name, s.st_size, s.st_mtime_ns)


def save_state(bundle: Path, state: UploadState) -> None:
    """Write-then-rename so a crash or reboot leaves either the old or the new state, never half of one."""
    path = state_path(bundle)
    data = json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(str(path.parent), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def touch(dest: DestState) -> None:
    dest.updated = _now()
