"""sftp:// upload (paramiko): the whole bundle under its own name, resumed from the remote file's size.

How resume stays sound:
- SSH's MAC protects every byte written, and sftp-server applies our in-order writes one packet at a time, so
  the remote size marks a clean prefix of what we sent.
- Before appending at offset N, the last <= 1 MiB below N is read back and compared with the bundle: a
  different file of the same name is never extended (it is restarted only if this state file created it).
- At the end the remote size must equal the bundle's, and (sftp_verify="full", the default) the whole remote
  file is read back and its SHA-256 compared; "size" skips the read-back for slow down-links.
"""

from __future__ import annotations

import contextlib
import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path

import paramiko

from ..errors import UploadError
from .common import Adapter, Job, Meter, Retryable, log
from .sftp_session import SftpSession, classify, parse_sftp_url

BLOCK = 256 * 1024
CHECK_WINDOW = 1024 * 1024


def _mkdirs(sftp: paramiko.SFTPClient, directory: str) -> None:
    if not directory or directory == "/":
        return
    cur = "/" if directory.startswith("/") else ""
    for comp in directory.split("/"):
        if not comp:
            continue
        cur = f"{cur.rstrip('/')}/{comp}" if cur else comp
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


class SftpAdapter(Adapter):
    mode = "sftp append"

    def __init__(self, job: Job, to: str) -> None:
        super().__init__(job)
        self.target = parse_sftp_url(to, job.opts.case)
        self.remote = self.target.path_for(job.plan.bundle_name)
        self.session: SftpSession | None = None
        self.contacted = False
        self.exists = False  # the remote file exists and is a prefix of the bundle

    @property
    def label(self) -> str:
        t = self.target
        return f"sftp://{t.user}@{t.host}:{t.port}/{self.remote.lstrip('/')}"

    @property
    def sftp(self) -> paramiko.SFTPClient:
        assert self.session is not None and self.session.sftp is not None
        return self.session.sftp

    @contextlib.contextmanager
    def _classified(self, what: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            raised = classify(exc, what, self.masker)
            if raised is exc:
                raise
            raise raised from None

    def open(self) -> None:
        self.session = SftpSession(self.target, self.job.opts, self.masker, self.contacted)
        self.contacted = True

    def offset(self) -> int:
        with self._classified(f"look at {self.remote}"):
            _mkdirs(self.sftp, self.target.directory)
            size = _remote_size(self.sftp, self.remote)
            if size is not None and (size > self.job.plan.bundle_size or (size > 0 and not self._prefix_ok(size))):
                if self.job.dest.remote_path != self.remote:
                    raise UploadError(
                        f"{self.remote} already exists on the server with other content",
                        hint="rename the bundle or remove the remote file; it is never overwritten or extended",
                    )
                log.warning("%s on the server does not match the bundle; starting it again", self.remote)
                size = None
        self.exists = size is not None
        self.job.dest.remote_path = self.remote
        return size or 0

    def _prefix_ok(self, size: int) -> bool:
        start = max(0, size - CHECK_WINDOW)
        with self.sftp.open(self.remote, "rb") as rf:
            rf.seek(start)
            remote = rf.read(size - start)
        return remote == _read_local(self.job.bundle, start, size - start)

    def send(self, offset: int, meter: Meter) -> int:
        total = self.job.plan.bundle_size
        log.info("sftp %s: sending from byte %d of %d", self.remote, offset, total)
        with self._classified(f"write {self.remote}"):
            mode = "r+b" if self.exists else "wb"  # "wb" creates, or truncates a mismatched file of ours
            with self.sftp.open(self.remote, mode) as wf, self.job.bundle.open("rb") as fh:
                wf.set_pipelined(True)
                wf.seek(offset)
                fh.seek(offset)
                pos = offset
                while pos < total:
                    block = fh.read(min(BLOCK, total - pos))
                    if not block:
                        raise UploadError(f"{self.job.bundle.name} shrank while being sent")
                    wf.write(block)  # returns once the SSH channel took it
                    meter.sent(len(block))
                    pos += len(block)
            final = _remote_size(self.sftp, self.remote) or 0
        if final != total:
            raise Retryable(f"{self.remote} has {final} of {total} bytes after writing")
        return final

    def finish(self) -> None:
        if self.job.opts.sftp_verify != "full":
            return
        plan = self.job.plan
        with self._classified(f"read back {self.remote}"):
            got = _remote_sha256(self.sftp, self.remote, plan.bundle_size)
            if got != plan.bundle_sha256:
                # ours (dest.remote_path was set by offset()): remove it so the next attempt sends it whole
                self.sftp.remove(self.remote)
                self.job.dest.remote_offset = 0
                self.job.save()
                raise Retryable(f"{self.remote} did not match the bundle's SHA-256 after upload; it was removed")
        log.info("sftp %s complete (%d bytes, verify=full)", self.remote, plan.bundle_size)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
