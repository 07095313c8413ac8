"""The benchmark's device: a real OpenSSH sshd on 127.0.0.1 whose test user's bash serves pre-generated files.

Outputs are deterministic (`cat /tmp/collector-bench/<size>.txt`); `BenchHost` carries everything a tool needs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path("/tmp/collector-bench")
MB = 1 << 20
_LINES_PER_BLOCK = 4096
_FORMAT = 2  # bump when the generator changes: files are regenerated


class BenchSetupError(RuntimeError):
    """The benchmark cannot start its server (no sshd, not root...): one line for the user."""


def _block(n: int) -> bytes:
    """Block n of a data file: device-like text lines; no line looks like a prompt (they end in a digit)."""
    out = []
    base = n * _LINES_PER_BLOCK
    for i in range(base, base + _LINES_PER_BLOCK):
        out.append(
            f"Gi0/{i % 48}/{i % 7:<3} up   up    {i:>10} packets input, {i * 64:>14} bytes, "
            f"{i % 1000:>4} drops, crc {i % 13}\n"
        )
    return "".join(out).encode()


def data_file(size: int) -> tuple[Path, str]:
    """A file of exactly `size` bytes (created once, kept between runs) and its SHA-256."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(DATA_DIR, 0o755)
    path = DATA_DIR / f"{size // MB}mb.txt" if size % MB == 0 else DATA_DIR / f"{size}b.txt"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        if info.get("size") == size == path.stat().st_size and info.get("format") == _FORMAT:
            return path, str(info["sha256"])
    h = hashlib.sha256()
    tmp = path.with_suffix(".tmp")
    written = 0
    n = 0
    with tmp.open("wb") as fh:
        while written < size:
            blk = _block(n)[: size - written]
            if written + len(blk) == size:
                # end with a newline so the prompt starts a fresh line; the cut last line must not end in
                # blanks (scrapli trims trailing whitespace, which would count as a difference)
                body = blk[:-1].rstrip(b" ")
                blk = body + b"x" * (len(blk) - 1 - len(body)) + b"\n"
            fh.write(blk)
            h.update(blk)
            written += len(blk)
            n += 1
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    digest = h.hexdigest()
    meta.write_text(json.dumps({"size": size, "sha256": digest, "format": _FORMAT}))
    return path, digest


@dataclass(frozen=True)
class BenchHost:
    """Where and how to log in; serialisable so a child process gets it as JSON."""

    host: str
    port: int
    user: str
    key_path: str
    known_hosts: str  # a known_hosts file holding the server's key

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> BenchHost:
        return cls(**json.loads(text))

    def ssh_args(self) -> list[str]:
        """OpenSSH client options for this host (no user config, this key only, batch mode)."""
        return [
            "-F", "/dev/null", "-i", self.key_path, "-p", str(self.port),
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR",
        ]


class SshdHost:
    """Start with `with SshdHost() as host:`; stops sshd and removes its directory on exit."""

    def __init__(self) -> None:
        self._server: object | None = None
        self.host: BenchHost | None = None

    def __enter__(self) -> BenchHost:
        try:
            from _pytest.outcomes import Skipped

            from tests.servers.sshd import start_sshd
        except ImportError as exc:  # pragma: no cover - the repo's test helpers are part of the checkout
            raise BenchSetupError(f"cannot import the test sshd helper ({exc})") from None
        try:
            server = start_sshd(allow_tcp_forwarding=False, extra_config="MaxSessions 64\nMaxStartups 64:30:128\n")
        except Skipped as exc:
            raise BenchSetupError(f"cannot start sshd: {exc.msg}") from None
        self._server = server
        kh = server.directory / "known_hosts"
        kh.write_text(server.known_hosts_line)
        os.chmod(kh, 0o644)
        self.host = BenchHost("127.0.0.1", server.port, server.account.name, str(server.client_key_path), str(kh))
        return self.host

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
