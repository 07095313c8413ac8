"""openssh://: the system `ssh` client on a pty (pexpect), with the user's own ~/.ssh/config, agent, keys, certificates.

ssh's prompts (password, OTP, key passphrase) reach the session's login dialog on the pty; ssh's own messages go to
a private log file (`-E`), so a failure is classified from what ssh said, never from what the device printed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

from ..errors import (
    AuthenticationError,
    ChangedHostKey,
    CollectorError,
    ConnectError,
    ConnectionLost,
    UnknownHostKey,
    UsageError,
)
from ..target import Target
from .base import ConnectOptions, Transport
from .client_failures import ClientFailure, classify_client_text, last_line
from .openssh_args import (
    Resolved,
    answers_prompts,
    client_version,
    common_args,
    config_file,
    find_ssh,
    master_running,
    resolve,
    session_argv,
)
from .pty_process import ProcessEnded, PtyProcess, child_environment

if TYPE_CHECKING:
    from .openssh_exec import OpenSSHExecRunner

LOG_TAIL = 16384  # bytes of ssh's own log read to classify its end

FAILURE_ERRORS: dict[str, tuple[type[CollectorError], str]] = {
    "host_key_changed": (ChangedHostKey, "ssh refused the host key: it differs from the one on record"),
    "host_key_unknown": (UnknownHostKey, "ssh refused the host key: it is not on record"),
    "auth": (AuthenticationError, "the login was refused"),
    "config": (UsageError, "ssh cannot use its configuration"),
    "negotiation": (ConnectError, "ssh and the device share no algorithm"),
    "unreachable": (ConnectError, "ssh could not reach the device"),
    "lost": (ConnectionLost, "the connection dropped"),
}

#: verdicts that stand whenever ssh gives them; reach failures after we sent something count as a dropped link
FINAL = ("host_key_changed", "host_key_unknown", "auth", "config")


def failure_error(failure: ClientFailure, where: str) -> CollectorError:
    cls, message = FAILURE_ERRORS[failure.kind]
    said = f"{failure.line}; {failure.where}" if failure.where else failure.line
    error = cls(f"{where}: {message} ({said})")
    if isinstance(error, ConnectError) and failure.kind == "negotiation":
        error.retryable = False
    if failure.kind == "host_key_unknown":
        error.hint = "check the fingerprint out of band, add it to known_hosts, or re-run with --accept-new-host-key"
    return error


class OpenSSHTransport(Transport):
    """One `ssh -tt` process per connection; `exec_runner()` runs `ssh -T HOST COMMAND` over the same connection."""

    def __init__(self, target: Target, options: ConnectOptions) -> None:
        super().__init__(target, options)
        self.info = {"transport": "openssh"}
        self._proc: PtyProcess | None = None
        self._dir: str | None = None
        self._ssh = ""
        self._common: list[str] = []
        self._resolved: Resolved | None = None
        self._control: str | None = None  # our own ControlPath, when the user's config shares none
        self._env: dict[str, str] = {}
        self._seen_data = False

    @property
    def where(self) -> str:
        return f"ssh {self.target.display()}"

    def open(self) -> None:
        if self.options.jumps:
            raise UsageError("--jump does not apply to openssh:// targets",
                             hint="put ProxyJump (or ProxyCommand) in the ssh config: ssh uses it as it always does")
        self._env = child_environment(self.options.credentials,
                                      {"TERM": self.options.term, "SSH_ASKPASS_REQUIRE": "never"})
        self._ssh = find_ssh(self._env)
        self._common = common_args(self.target, self.options)
        resolved = resolve(self._ssh, self._common, self.target.host, self._env)
        self._resolved = resolved
        self._dir = tempfile.mkdtemp(prefix="collector-ssh-")
        try:
            self._start(resolved)
        except BaseException:
            self.close()
            raise

    def _start(self, resolved: Resolved) -> None:
        joins = resolved.multiplexing and master_running(self._ssh, self._common, self.target.host, self._env)
        self._control = None if resolved.multiplexing else os.path.join(self.workdir, "cm")
        config = config_file(self.target, self.options)
        self.info.update(resolved.info())
        self.info.update({"client": client_version(self._ssh, self._env), "multiplexed": joins,
                          "config": "default" if config is None else "none" if config == "none" else "file"})
        argv = session_argv(self._ssh, self._common, self.target.host, log=self.log_path,
                            batch=not answers_prompts(self.options), resolved=resolved, control_path=self._control,
                            connect_timeout=self.options.connect_timeout)
        self._proc = PtyProcess(argv, env=self._env, rows=self.options.height, cols=self.options.width, raw=False)
        self._proc.spawn()

    @property
    def workdir(self) -> str:
        """A private directory (0700) for ssh's log and our ControlPath; removed on close."""
        if self._dir is None:
            raise ConnectionLost(f"{self.where}: not open")
        return self._dir

    @property
    def log_path(self) -> str:
        return os.path.join(self.workdir, "log")

    def read(self, timeout: float | None) -> bytes:
        proc = self._live()
        try:
            data = proc.read(timeout)
        except ProcessEnded as end:
            raise self._ended(end) from None
        if data and not self._seen_data:
            self._seen_data = True  # ssh shows nothing of the device before the host key was checked
            if b"Permanently added" in self.ssh_log():
                self.info["host_key_status"] = "trusted on first use"
        return data

    def write(self, data: bytes) -> None:
        try:
            self._live().write(data)
        except ProcessEnded as end:
            raise self._ended(end) from None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.alive()

    def exec_runner(self) -> OpenSSHExecRunner:
        from .openssh_exec import OpenSSHExecRunner

        if self._resolved is None or self._dir is None:
            raise ConnectionLost(f"{self.where}: not open")
        return OpenSSHExecRunner(self, self._ssh, self._common, self._resolved, self._control, self._dir, self._env)

    def ssh_log(self, limit: int = LOG_TAIL) -> bytes:
        """The tail of what ssh itself said (its errors and warnings; never the device's output)."""
        if self._dir is None:
            return b""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - limit))
                return fh.read()
        except OSError:
            return b""

    def close(self) -> None:
        if self._proc is not None:
            end = self._proc.close()
            if end is not None:
                self.info.update(end.info())
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -- internals ----------------------------------------------------------------------------------------------
    def _live(self) -> PtyProcess:
        if self._proc is None:
            raise ConnectionLost(f"{self.where}: not open")
        return self._proc

    def _ended(self, end: ProcessEnded) -> CollectorError:
        """Why ssh ended, from its own log. Host key, login and config verdicts stand; once we had sent it
        something (a password, a command), anything else is a dropped link (retried), never a connect error."""
        self.info.update(end.end.info())
        log = self.ssh_log()
        with contextlib.suppress(OSError):
            self.close()
        failure = classify_client_text(log)
        if failure is not None and (failure.kind in FINAL or not end.wrote):
            return failure_error(failure, self.where)
        said = failure.line if failure is not None else last_line(log) or last_line(end.tail)
        detail = f"ssh ended ({end.end.describe()})" + (f": {said}" if said else "")
        if end.stalled:
            return ConnectionLost(f"{self.where}: ssh stopped reading its input; ended it")
        if end.end.status == 255 and not end.wrote:
            return ConnectError(f"{self.where}: {detail}", hint="run `ssh -v HOST` by hand to see why")
        return ConnectionLost(f"{self.where}: the session ended ({detail})")
