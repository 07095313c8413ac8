"""The SSH side of sftp:// uploads: the URL, one authenticated paramiko session, and how its failures are classed.

Host keys go through collector.transports.ssh_hostkeys.HostKeyVerifier (unknown refused unless accept-new,
changed always refused); a refused login is never retried.
"""

from __future__ import annotations

import contextlib
import errno
import posixpath
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paramiko

from ..errors import HostKeyError, UploadError, UsageError
from ..secrets import Masker
from ..transports.ssh_hostkeys import HostKeyVerifier
from .common import Retryable, UploadOptions
from .failures import network_error, shown

_PERMANENT_ERRNO = {errno.EACCES, errno.EPERM, errno.ENOENT, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EISDIR}


@dataclass(frozen=True)
class SftpTarget:
    host: str
    port: int
    user: str
    directory: str

    def path_for(self, name: str) -> str:
        return posixpath.join(self.directory, name) if self.directory else name


def parse_sftp_url(to: str, case: str) -> SftpTarget:
    """`sftp://[user@]host[:port]/dir/`; user defaults to the case number (CXD), `/~/dir` is home-relative."""
    u = urlsplit(to)
    path = unquote(u.path or "")
    if path in ("", "/~", "/~/"):
        directory = ""
    elif path.startswith("/~/"):
        directory = path[3:].rstrip("/")
    else:
        directory = path.rstrip("/") or "/"
    return SftpTarget(u.hostname or "", u.port or 22, unquote(u.username) if u.username else case, directory)


class SftpSession:
    """One authenticated SSH transport with an SFTP client; closed on every failure."""

    def __init__(self, target: SftpTarget, opts: UploadOptions, masker: Masker, contacted: bool) -> None:
        self.transport: paramiko.Transport | None = None
        self.sftp: paramiko.SFTPClient | None = None
        self.label = f"sftp {target.host}:{target.port}"
        try:
            sock = socket.create_connection((target.host, target.port), timeout=min(opts.timeout, 30.0))
        except OSError as exc:
            raise network_error(exc, f"{target.host}:{target.port}", contacted, "sftp connection") from None
        sock.settimeout(None)
        try:
            self._start(paramiko.Transport(sock), target, opts)
        except paramiko.AuthenticationException:
            self.close()
            raise UploadError(
                f"{self.label}: the server refused the login for {target.user}",
                hint="check the user (sftp://USER@host/), the password (--password-env) or the key; "
                "nothing was retried",
            ) from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise Retryable(f"{self.label}: {shown(masker.text(str(exc))) or type(exc).__name__}") from None
        except BaseException:  # host-key refusals, usage errors: the session goes, the error stays as it is
            self.close()
            raise

    def _start(self, t: paramiko.Transport, target: SftpTarget, opts: UploadOptions) -> None:
        self.transport = t
        verifier = HostKeyVerifier(
            own_known_hosts=str(opts.known_hosts) if opts.known_hosts else None,
            accept_new=opts.accept_new_host_key,
        )
        t.banner_timeout = opts.timeout
        t.handshake_timeout = opts.timeout
        t.auth_timeout = opts.timeout
        sec = t.get_security_options()
        sec.key_types = verifier.preferred_key_types(target.host, target.port, tuple(sec.key_types))
        t.start_client(timeout=opts.timeout)
        verifier.verify(target.host, target.port, t.get_remote_server_key(), role="upload server")
        self._auth(t, target, opts)
        self.sftp = paramiko.SFTPClient.from_transport(t)
        if self.sftp is None:
            raise Retryable(f"{self.label}: the SFTP subsystem did not start")
        channel = self.sftp.get_channel()
        if channel is not None:
            channel.settimeout(opts.timeout)

    @staticmethod
    def _auth(t: paramiko.Transport, target: SftpTarget, opts: UploadOptions) -> None:
        if opts.key_file is not None:
            try:
                pkey = paramiko.PKey.from_path(opts.key_file)
            except (OSError, paramiko.SSHException) as exc:
                raise UploadError(f"cannot read the key {opts.key_file}: {type(exc).__name__}") from None
            try:
                t.auth_publickey(target.user, pkey)
                return
            except paramiko.AuthenticationException:
                if opts.password is None:
                    raise
        if opts.password is None:
            raise UsageError(
                "no password or key for the SFTP login",
                hint="pass --password-env VAR (for CXD: the case's upload token) or a key",
            )
        t.auth_password(target.user, opts.password.reveal())

    def close(self) -> None:
        if self.sftp is not None:
            with contextlib.suppress(Exception):  # closing a broken session must not mask the real error
                self.sftp.close()
        if self.transport is not None:
            self.transport.close()


def classify(exc: Exception, what: str, masker: Masker) -> Exception:
    """A failure during SFTP file operations: permission and path errors are final, the rest transient."""
    if isinstance(exc, UploadError | UsageError | Retryable | HostKeyError):
        return exc
    err = getattr(exc, "errno", None)
    text = shown(masker.text(str(exc))) or type(exc).__name__
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError | TimeoutError) and err in _PERMANENT_ERRNO:
        return UploadError(
            f"the SFTP server refused to {what}: {text}",
            hint="check the upload directory in the URL and that the account may write there",
        )
    if isinstance(exc, OSError | paramiko.SSHException | EOFError):
        return Retryable(f"{what} failed: {text}")
    return exc
