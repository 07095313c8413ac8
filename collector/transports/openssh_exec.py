"""openssh:// exec mode: `ssh -T HOST COMMAND` without a pty, over the session's shared connection: exact bytes.

Output (stdout with stderr merged, as the paramiko exec runner does) goes to on_data as it arrives; the exit status
is ssh's, which is the command's; ssh's own failures are told apart by its log, never guessed from the output.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Protocol

from ..errors import ConnectionLost
from ..target import Target
from .base import ExecResult
from .client_failures import classify_client_text, last_line
from .openssh_args import Resolved, exec_argv


class _Interactive(Protocol):
    """What the runner needs of the interactive openssh:// transport it shares a connection with."""

    target: Target

    @property
    def where(self) -> str: ...

    def alive(self) -> bool: ...

READ_SIZE = 1 << 20
PIPE_SIZE = 1 << 20
EXIT_STATUS_WAIT = 10.0


class OpenSSHExecRunner:
    """Runs commands as `ssh -T` processes that join the interactive session's connection (ControlMaster)."""

    def __init__(self, transport: _Interactive, ssh: str, common: list[str], resolved: Resolved,
                 control_path: str | None, workdir: str, env: dict[str, str]) -> None:
        self.transport = transport
        self.ssh = ssh
        self.common = common
        self.resolved = resolved
        self.control_path = control_path
        self.log = os.path.join(workdir, "exec.log")
        self.env = env

    def run(self, command: str, on_data: Callable[[bytes], None], idle_timeout: float,
            max_time: float | None = None) -> ExecResult:
        if not self.transport.alive():
            raise ConnectionLost(f"{self.transport.where}: the session's ssh has ended")
        with open(self.log, "wb"):
            pass  # a fresh log per command: only this command's ssh messages are classified
        argv = exec_argv(self.ssh, self.common, self.transport.target.host, command, log=self.log,
                         resolved=self.resolved, control_path=self.control_path)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=self.env, start_new_session=True)
        start = time.monotonic()
        try:
            total, reason = self._pump(proc, on_data, start, idle_timeout, max_time)
            status = self._finish(proc, reason)
        finally:
            _end(proc)
        return ExecResult(exit_status=status, bytes=total, timed_out=reason is not None, timeout_reason=reason,
                          duration=time.monotonic() - start)

    def _pump(self, proc: subprocess.Popen[bytes], on_data: Callable[[bytes], None], start: float,
              idle_timeout: float, max_time: float | None) -> tuple[int, str | None]:
        """Hand the output on until it ends; the timeout that stopped it, if one did."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        with contextlib.suppress(OSError):  # a 1 MiB pipe: ssh is not stopped at every 64 KiB while we store
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        total = 0
        last = start
        while True:
            now = time.monotonic()
            wait = idle_timeout - (now - last)
            if max_time is not None:
                wait = min(wait, max_time - (now - start))
            if wait <= 0:
                return total, "max_time" if max_time is not None and now - start >= max_time else "idle"
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                continue
            data = os.read(fd, READ_SIZE)
            if not data:
                return total, None
            on_data(data)
            total += len(data)
            last = time.monotonic()

    def _finish(self, proc: subprocess.Popen[bytes], reason: str | None) -> int | None:
        """The command's exit status; ssh's own failure (status 255 with a message in its log) raises."""
        if reason is not None:
            return None
        try:
            status = proc.wait(EXIT_STATUS_WAIT)
        except subprocess.TimeoutExpired:
            raise ConnectionLost(f"{self.transport.where}: ssh did not exit after the output ended") from None
        if status == 255:
            with open(self.log, "rb") as fh:
                said = fh.read()
            if said.strip():  # ssh's own failure, not the command's exit status 255
                failure = classify_client_text(said)
                line = failure.line if failure else last_line(said)
                raise ConnectionLost(f"{self.transport.where}: ssh exec failed ({line})")
        return status if status >= 0 else None


def _end(proc: subprocess.Popen[bytes]) -> None:
    """The ssh process (and anything it started) is ended and reaped, whatever happened."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(2.0)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
