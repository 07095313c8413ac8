"""sftp:// upload (paramiko): the whole bundle under its own name, resumed from the remote file's size.

How resume stays sound:
- SSH's MAC protects every byte written, and sftp-server applies our in-order writes one packet at a time, so
  the remote size marks a clean prefix of what we sent.
- Before appending at offset N, the last <= 1 MiB below N is read back and compared with the bundle: a
  different file of the same name is never extended (it is restarted only if this state file created it).
- At the end the remote size must equal the bundle's, and (sftp_verify="full", the default) the whole remote
  file is read back and its SHA-256 compared; "size" skips the read-back for slow down-links.
Host keys go through collector.transports.ssh_hostkeys.HostKeyVerifier (unknown refused unless accept-new,
changed always refused).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import posixpath
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paramiko

from ..errors import HostKeyError, UploadError
from ..secrets import Masker
from ..transports.ssh_hostkeys import HostKeyVerifier
from .common import Retryable, RunCounters, UploadOptions, log, make_masker, retry_call
from .parts import PartsPlan
from .progress import NullProgress
from .state import DestState, UploadState, save_state, touch

BLOCK = 256 * 1024
CHECK_WINDOW = 1024 * 1024
SAVE_EVERY = 8 * 1024 * 1024
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


class _Session:
    """One authenticated SSH transport with an SFTP client; closed on every failure."""

    def __init__(self, target: SftpTarget, opts: UploadOptions, masker: Masker) -> None:
        self.transport: paramiko.Transport | None = None
        self.sftp: paramiko.SFTPClient | None = None
        self._open(target, opts, masker)

    def _open(self, target: SftpTarget, opts: UploadOptions, masker: Masker) -> None:
        label = f"sftp {target.host}:{target.port}"
        try:
            sock = socket.create_connection((target.host, target.port), timeout=min(opts.timeout, 30.0))
        except socket.gaierror as exc:
            raise UploadError(f"{label}: cannot resolve host ({exc.strerror})") from None
        except OSError as exc:
            raise Retryable(f"{label}: cannot connect ({type(exc).__name__})") from None
        sock.settimeout(None)
        t = paramiko.Transport(sock)
        self.transport = t
        verifier = HostKeyVerifier(
            own_known_hosts=str(opts.known_hosts) if opts.known_hosts else None,
            accept_new=opts.accept_new_host_key,
        )
        try:
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
                raise Retryable(f"{label}: the SFTP subsystem did not start")
            channel = self.sftp.get_channel()
            if channel is not None:
                channel.settimeout(opts.timeout)
        except (HostKeyError, UploadError, Retryable):
            self.close()
            raise
        except paramiko.AuthenticationException:
            self.close()
            raise UploadError(
                f"{label}: the server refused the login for {target.user}",
                hint="check the user (sftp://USER@host/), the password or token, or the key; nothing was retried",
            ) from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise Retryable(f"{label}: {masker.text(str(exc)) or type(exc).__name__}") from None

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
                if opts.password is None and opts.token is None:
                    raise
        secret = opts.password or opts.token
        if secret is None:
            raise UploadError(
                "no password, token or key for the SFTP login",
                hint="pass --token-env/--token-command (CXD) or a password or key for the SFTP server",
            )
        t.auth_password(target.user, secret.reveal())

    def close(self) -> None:
        if self.sftp is not None:
            with contextlib.suppress(Exception):  # closing a broken session must not mask the real error
                self.sftp.close()
        if self.transport is not None:
            self.transport.close()


def _classify(exc: BaseException, what: str, masker: Masker) -> BaseException:
    if isinstance(exc, UploadError | Retryable | HostKeyError):
        return exc
    err = getattr(exc, "errno", None)
    text = masker.text(str(exc)) or type(exc).__name__
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError | TimeoutError) and err in _PERMANENT_ERRNO:
        return UploadError(
            f"the SFTP server refused to {what}: {text}",
            hint="check the upload directory in the URL and that the account may write there",
        )
    return Retryable(f"{what} failed: {text}")


def _mkdirs(sftp: paramiko.SFTPClient, directory: str) -> None:
    if not directory or directory == "/":
        return
    parts = directory.split("/")
    cur = "/" if directory.startswith("/") else ""
    for comp in parts:
        if not comp:
            continue
        cur = posixpath.join(cur, comp) if cur else comp
        try:
            st = sftp.stat(cur)
            if st.st_mode is not None and not stat.S_ISDIR(st.st_mode):
                raise UploadError(f"the upload path {cur} on the server is not a directory")
        except FileNotFoundError:
            with contextlib.suppress(OSError):  # a race or no right to create it: opening the file says which
                sftp.mkdir(cur)


def _remote_size(sftp: paramiko.SFTPClient, path: str) -> int | None:
    try:
        size = sftp.stat(path).st_size
    except FileNotFoundError:
        return None
    return int(size or 0)


def _read_local(bundle: Path, offset: int, n: int) -> bytes:
    with bundle.open("rb") as fh:
        fh.seek(offset)
        return fh.read(n)


def _prefix_matches(sftp: paramiko.SFTPClient, path: str, bundle: Path, size: int) -> bool:
    start = max(0, size - CHECK_WINDOW)
    with sftp.open(path, "rb") as rf:
        rf.seek(start)
        remote = rf.read(size - start)
    return remote == _read_local(bundle, start, size - start)


def _remote_sha256(sftp: paramiko.SFTPClient, path: str, size: int) -> str:
    h = hashlib.sha256()
    with sftp.open(path, "rb") as rf:
        rf.prefetch(size)
        left = size
        while left > 0:
            block = rf.read(min(1024 * 1024, left))
            if not block:
                break
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def upload_sftp(
    bundle: Path,
    to: str,
    plan: PartsPlan,
    dest: DestState,
    state: UploadState,
    opts: UploadOptions,
    progress: NullProgress,
    counters: RunCounters,
) -> None:
    target = parse_sftp_url(to, opts.case)
    masker = make_masker(opts.token, opts.password)
    remote = target.path_for(plan.bundle_name)
    total = plan.bundle_size

    shown = [min(dest.remote_offset, total)]  # where the progress bar stands

    def attempt() -> None:
        session = _Session(target, opts, masker)
        try:
            _attempt(session, bundle, remote, target, plan, dest, state, opts, progress, counters, total, shown)
        except BaseException as exc:
            session.close()
            raised = _classify(exc, f"write {remote}", masker) if isinstance(exc, Exception) else exc
            if raised is exc:
                raise
            raise raised from None
        session.close()

    retry_call(
        attempt,
        retries=opts.retries,
        backoff=opts.backoff,
        what=f"sftp upload of {plan.bundle_name} to {target.host}",
        masker=masker,
        counters=counters,
    )


def _attempt(
    session: _Session,
    bundle: Path,
    remote: str,
    target: SftpTarget,
    plan: PartsPlan,
    dest: DestState,
    state: UploadState,
    opts: UploadOptions,
    progress: NullProgress,
    counters: RunCounters,
    total: int,
    shown: list[int],
) -> None:
    sftp = session.sftp
    assert sftp is not None
    _mkdirs(sftp, target.directory)
    size = _remote_size(sftp, remote)
    owned = dest.remote_path == remote
    offset = size or 0
    if size is not None and (size > total or (size > 0 and not _prefix_matches(sftp, remote, bundle, size))):
        if not owned:
            raise UploadError(
                f"{remote} already exists on the server with other content",
                hint="rename the bundle or remove the remote file; it is never overwritten or extended",
            )
        log.warning("%s on the server does not match the bundle; starting it again", remote)
        offset = 0
        size = None
    if counters.resumed_from is None:
        counters.resumed_from = offset
    dest.remote_path = remote
    dest.remote_offset = offset
    progress.rewind(shown[0] - offset)  # the bar shows what the server has
    shown[0] = offset
    touch(dest)
    save_state(bundle, state)
    if offset < total or size is None:
        mode = "r+b" if size is not None else "wb"  # "wb" creates, or truncates a mismatched file of ours
        log.info("sftp %s: sending from byte %d of %d", remote, offset, total)
        with sftp.open(remote, mode) as wf, bundle.open("rb") as fh:
            wf.set_pipelined(True)
            wf.seek(offset)
            fh.seek(offset)
            pos = offset
            last_save = pos
            while pos < total:
                block = fh.read(min(BLOCK, total - pos))
                if not block:
                    raise UploadError(f"{bundle.name} shrank while being sent")
                # counted before the write: a block that fails half-way may still have partly reached the server
                end = pos + len(block)
                counters.bytes_sent += len(block)
                # bytes below the high-water mark of earlier attempts are sent a second time
                counters.bytes_resent += max(0, min(end, dest.sent_upto) - pos)
                dest.sent_upto = max(dest.sent_upto, end)
                wf.write(block)
                pos = end
                progress.advance(len(block))
                shown[0] = pos
                if pos - last_save >= SAVE_EVERY:
                    save_state(bundle, state)
                    last_save = pos
    final = _remote_size(sftp, remote) or 0
    dest.remote_offset = final
    if final != total:
        raise Retryable(f"{remote} has {final} of {total} bytes after writing")
    if opts.sftp_verify == "full":
        got = _remote_sha256(sftp, remote, total)
        if got != plan.bundle_sha256:
            # ours (dest.remote_path was set above): remove it so the next attempt sends it whole
            sftp.remove(remote)
            dest.remote_offset = 0
            save_state(bundle, state)
            raise Retryable(f"{remote} did not match the bundle's SHA-256 after upload; it was removed")
    dest.complete = True
    touch(dest)
    save_state(bundle, state)
    log.info("sftp %s complete (%d bytes, verify=%s)", remote, total, opts.sftp_verify)
