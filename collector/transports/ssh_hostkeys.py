"""SSH host-key policy: known_hosts lookup (system file read-only, collector's own file read/write).

Unknown keys are refused unless trust-on-first-use was chosen; a changed key is always refused.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import fnmatch
import hashlib
import hmac
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import paramiko

from ..errors import ChangedHostKey, UnknownHostKey

#: paramiko host-key algorithm names that can verify a key stored under this known_hosts type
_ALGORITHMS_FOR_TYPE = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}


def default_own_known_hosts() -> str:
    """$COLLECTOR_HOME/known_hosts, else the user data directory's (~/.local/share/collector/known_hosts)."""
    from ..paths import data_dir

    return str(data_dir() / "known_hosts")


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style fingerprint: ``SHA256:`` + unpadded base64 of the key blob's SHA-256."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def known_hosts_name(host: str, port: int | None) -> str:
    """The name a key is stored under: ``host`` for port 22, ``[host]:port`` otherwise."""
    if port in (None, 22):
        return host
    return f"[{host}]:{port}"


def known_hosts_line(host: str, port: int | None, key: paramiko.PKey) -> str:
    return f"{known_hosts_name(host, port)} {key.get_name()} {key.get_base64()}\n"


@dataclass(frozen=True)
class KnownKey:
    """One known_hosts entry that applies to a host."""

    path: str
    lineno: int
    key: paramiko.PKey
    marker: str | None = None  # "@revoked" or None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.lineno}"


@dataclass(frozen=True)
class HostKeyResult:
    """What verification concluded, for the transport's `info`."""

    name: str
    key_type: str
    fingerprint: str
    status: str  # "known" | "trusted on first use"
    source: str  # file:line of the matching entry, or the file it was recorded in

    def as_info(self) -> dict[str, str]:
        return {
            "host_key_type": self.key_type,
            "host_key_fingerprint": self.fingerprint,
            "host_key_status": self.status,
            "host_key_source": self.source,
        }


def _hashed_match(name: str, pattern: str) -> bool:
    # |1|base64(salt)|base64(hmac-sha1(salt, name))
    parts = pattern.split("|")
    if len(parts) != 4 or parts[1] != "1":
        return False
    try:
        salt = base64.b64decode(parts[2])
        want = base64.b64decode(parts[3])
    except ValueError:
        return False
    got = hmac.new(salt, name.encode("utf-8"), hashlib.sha1).digest()
    return hmac.compare_digest(got, want)


def _names_match(name: str, field: str) -> bool:
    """OpenSSH host-pattern list: comma-separated, hashed, wildcards, ``!`` negation."""
    matched = False
    for pattern in field.split(","):
        if not pattern:
            continue
        negate = pattern.startswith("!")
        if negate:
            pattern = pattern[1:]
        if pattern.startswith("|1|"):
            hit = _hashed_match(name, pattern)
        elif any(c in pattern for c in "*?"):
            hit = fnmatch.fnmatchcase(name.lower(), pattern.lower())
        else:
            hit = name.lower() == pattern.lower()
        if hit and negate:
            return False
        matched = matched or hit
    return matched


def _parse_file(path: str, name: str) -> Iterator[KnownKey]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.readlines()
    except FileNotFoundError:
        return
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        marker = None
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
            if marker != "@revoked":  # @cert-authority: certificates are not used here
                continue
        if len(fields) < 3 or not _names_match(name, fields[0]):
            continue
        try:
            key = paramiko.PKey.from_type_string(fields[1], base64.b64decode(fields[2]))
        except (ValueError, paramiko.SSHException):
            continue  # key types paramiko cannot parse (or corrupt lines) never match
        yield KnownKey(path, lineno, key, marker)


class HostKeyVerifier:
    """Checks a server's host key against known_hosts files.

    ``system_known_hosts`` (OpenSSH's file) is only ever read; new keys accepted on first use
    go to ``own_known_hosts`` (atomic rewrite, mode 0600).
    """

    def __init__(
        self,
        system_known_hosts: str | None = "~/.ssh/known_hosts",
        own_known_hosts: str | None = None,
        accept_new: bool = False,
    ) -> None:
        self.system_known_hosts = os.path.expanduser(system_known_hosts) if system_known_hosts else None
        self.own_known_hosts = os.path.expanduser(own_known_hosts or default_own_known_hosts())
        self.accept_new = accept_new

    @classmethod
    def from_options(cls, options: object) -> HostKeyVerifier:
        """Build from a ConnectOptions (known_hosts, system_known_hosts, accept_new_host_key)."""
        return cls(
            system_known_hosts=getattr(options, "system_known_hosts", "~/.ssh/known_hosts"),
            own_known_hosts=getattr(options, "known_hosts", None),
            accept_new=bool(getattr(options, "accept_new_host_key", False)),
        )

    def _files(self) -> list[str]:
        files = [self.system_known_hosts] if self.system_known_hosts else []
        if self.own_known_hosts not in files:
            files.append(self.own_known_hosts)
        return files

    def known_keys(self, host: str, port: int | None) -> list[KnownKey]:
        name = known_hosts_name(host, port)
        return [entry for path in self._files() for entry in _parse_file(path, name)]

    def preferred_key_types(self, host: str, port: int | None, offered: tuple[str, ...]) -> list[str]:
        """``offered`` (host-key algorithms, in order) with the types already on record moved first.

        Like OpenSSH, this makes the server present the key we can check, instead of a type we
        have never seen for it (which this policy would refuse as a changed key).
        """
        first: list[str] = []
        for entry in self.known_keys(host, port):
            if entry.marker:
                continue
            kt = entry.key.get_name()
            for alg in _ALGORITHMS_FOR_TYPE.get(kt, (kt,)):
                if alg in offered and alg not in first:
                    first.append(alg)
        return first + [alg for alg in offered if alg not in first]

    def verify(self, host: str, port: int | None, key: paramiko.PKey, role: str = "") -> HostKeyResult:
        """Raise UnknownHostKey / ChangedHostKey, or say why the key is trusted.

        `role` ("jump host", "device") only goes into messages.
        """
        name = known_hosts_name(host, port)
        who = f"{role} {name}" if role else name
        fp = fingerprint(key)
        blob = key.asbytes()
        entries = self.known_keys(host, port)
        for entry in entries:
            if entry.marker == "@revoked" and entry.key.asbytes() == blob:
                raise ChangedHostKey(
                    f"host key of {who} ({key.get_name()} {fp}) is marked @revoked in {entry.where}",
                    hint="the key was revoked on purpose; do not connect until the device has a new key",
                )
        valid = [e for e in entries if e.marker is None]
        for entry in valid:
            if entry.key.asbytes() == blob:
                return HostKeyResult(name, key.get_name(), fp, "known", entry.where)
        if valid:
            same_type = [e for e in valid if e.key.get_name() == key.get_name()]
            old = (same_type or valid)[0]
            raise ChangedHostKey(
                f"HOST KEY CHANGED for {who}: it now presents {key.get_name()} {fp}, "
                f"but {old.where} has {old.key.get_name()} {fingerprint(old.key)}"
                " (possible man-in-the-middle; refused)",
                hint=f"if the device was legitimately replaced, verify the new fingerprint out of band and "
                f"remove line {old.lineno} of {old.path}",
            )
        if not self.accept_new:
            raise UnknownHostKey(
                f"unknown host key for {who}: {key.get_name()} {fp}",
                hint="verify the fingerprint out of band, then re-run with --accept-new-host-key to trust it "
                f"(recorded in {self.own_known_hosts})",
            )
        self.record(host, port, key)
        return HostKeyResult(name, key.get_name(), fp, "trusted on first use", self.own_known_hosts)

    def record(self, host: str, port: int | None, key: paramiko.PKey) -> None:
        """Append an entry to the own known_hosts file: lock, rewrite to a temp file, rename."""
        path = self.own_known_hosts
        directory = os.path.dirname(path) or "."
        os.makedirs(directory, mode=0o700, exist_ok=True)
        line = known_hosts_line(host, port, key)
        with _locked(path + ".lock"):
            try:
                with open(path, "rb") as fh:
                    old = fh.read()
            except FileNotFoundError:
                old = b""
            if old and not old.endswith(b"\n"):
                old += b"\n"
            fd, tmp = tempfile.mkstemp(prefix=".known_hosts.", dir=directory)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(old + line.encode("ascii"))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise


@contextlib.contextmanager
def _locked(lock_path: str) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
