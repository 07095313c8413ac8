"""A local program on a pseudo-terminal as a byte pipe: spawned by pexpect from an argv list (never a shell).

Read with a timeout (the end raises ProcessEnded with the exit status), write all bytes; close always ends the
program and its process group and reaps it, so no zombie and no orphan is left behind.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import time
import tty
from collections.abc import Mapping
from dataclasses import dataclass

import pexpect

from ..credentials import Credentials
from ..secrets import Secret

READ_SIZE = 65536
TAIL = 4096  # last output bytes kept for error messages
HANGUP_GRACE = 1.0  # after the line hangs up (SIGHUP), then SIGTERM, then SIGKILL
TERM_GRACE = 1.0
WRITE_STALL_TIMEOUT = 120.0


@dataclass(frozen=True)
class Exit:
    """How a program ended: its exit status, or the signal that killed it; `hung_up` when we ended it."""

    status: int | None
    signal: int | None
    hung_up: bool = False

    def describe(self) -> str:
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = "real-time signal"
            return f"killed by signal {self.signal} ({name})"
        return f"exit status {self.status}" if self.status is not None else "exit status unknown"

    def info(self) -> dict[str, int | str]:
        code: dict[str, int | str] = {"exit_signal": self.signal} if self.signal is not None else {
            "exit_status": self.status if self.status is not None else -1}
        return {**code, "ended_by": "collector" if self.hung_up else "itself"}


class ProcessEnded(Exception):
    """The program closed the line (it exited, or stopped reading its input and was ended).

    `wrote` tells whether we had sent it anything before; `stalled` that it stopped reading what we sent.
    """

    def __init__(self, end: Exit, tail: bytes, wrote: bool, *, stalled: bool = False) -> None:
        super().__init__(end.describe())
        self.end = end
        self.tail = tail
        self.wrote = wrote
        self.stalled = stalled


class ProgramNotFound(Exception):
    """argv[0] is not an executable file (on PATH, or at the path given)."""


def child_environment(credentials: Credentials | None, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our environment for a child, minus every variable that holds a secret (e.g. the one --password-env read):
    any value containing a secret the masker knows, or equal to one of the credentials (however short)."""
    secrets = {s.reveal() for s in _secrets(credentials)}
    env = {}
    for name, value in os.environ.items():
        raw = value.encode("utf-8", "surrogateescape")
        if value in secrets or (credentials is not None and credentials.masker.data(raw) != raw):
            continue
        env[name] = value
    env.update(overrides or {})
    return env


def _secrets(credentials: Credentials | None) -> list[Secret]:
    if credentials is None:
        return []
    return [s for s in (credentials.password, credentials.enable, credentials.key_passphrase) if s]


def resolve_program(name: str, env: Mapping[str, str]) -> str:
    """The executable argv[0] names: a path as given, else looked up on the child's PATH."""
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None or not os.path.isfile(found):
        raise ProgramNotFound(name)
    return found


class PtyProcess:
    """One spawned program; `raw=True` puts its terminal in raw mode first (bytes pass unchanged both ways)."""

    def __init__(self, argv: list[str], *, env: dict[str, str], rows: int, cols: int, raw: bool) -> None:
        self.argv = argv
        self.env = env
        self.rows, self.cols = rows, cols
        self.raw = raw
        self.exit: Exit | None = None
        self.wrote = False
        self._child: pexpect.spawn | None = None
        self._tail = bytearray()

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    @property
    def tail(self) -> bytes:
        return bytes(self._tail)

    def spawn(self) -> None:
        program = resolve_program(self.argv[0], self.env)
        self._child = pexpect.spawn(program, self.argv[1:], env=self.env, dimensions=(self.rows, self.cols),
                                    preexec_fn=_raw_stdin if self.raw else None, echo=not self.raw)
        self._child.ptyproc.delayafterclose = 0.0

    def read(self, timeout: float | None) -> bytes:
        """Bytes the program wrote (b'' when `timeout` passed); ProcessEnded once the line is closed.

        Reads the pexpect child's descriptor directly: nothing here reaps the program behind close()'s back.
        """
        fd = self._open().child_fd
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            if self._child is not None and _exited(self._child.pid, 0):  # gone, but a descendant holds the line
                raise self._ended()
            return b""
        data = _read(fd)
        if not data:
            raise self._ended()
        # a pty hands over ~4 KiB per read: take what else is already there, so the session sees fewer, bigger
        # chunks (measured: 1.2x the throughput of one read per call; a reader thread lost to GIL hand-offs)
        parts, size = [data], len(data)
        while size < READ_SIZE and select.select([fd], [], [], 0)[0]:
            more = _read(fd)
            if not more:
                break  # the end: the next read reports it
            parts.append(more)
            size += len(more)
        data = b"".join(parts) if len(parts) > 1 else data
        self._tail += data
        del self._tail[:-TAIL]
        return data

    def write(self, data: bytes) -> None:
        child = self._open()
        view = memoryview(data)
        deadline = time.monotonic() + WRITE_STALL_TIMEOUT
        while view:
            _, ready, _ = select.select([], [child.child_fd], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise self._ended(stalled=True)  # it stopped reading its input: hung
            try:
                n = os.write(child.child_fd, view[:READ_SIZE])
            except OSError:
                raise self._ended() from None
            self.wrote = True
            view = view[n:]

    def alive(self) -> bool:
        return self._child is not None and self.exit is None and not _exited(self._child.pid, 0)

    def close(self) -> Exit | None:
        """Hang up the line, then SIGTERM and SIGKILL the program's process group as needed; reap it."""
        return self._finish(None)

    def _finish(self, hung_up: bool | None) -> Exit | None:
        """close(); `hung_up` says who ended it (None: we do, unless it has exited already)."""
        child = self._child
        if child is None or self.exit is not None:
            return self.exit
        pid = child.pid
        if hung_up is None:
            hung_up = not _exited(pid, 0)
        child.ptyproc.fileobj.close()  # the line hangs up: the kernel sends SIGHUP to the program's session
        for sig, grace in ((None, HANGUP_GRACE), (signal.SIGTERM, TERM_GRACE), (signal.SIGKILL, 10.0)):
            if sig is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, sig)  # the group pexpect created for the program (it is a session leader)
            if _exited(pid, grace):
                break
        # the leader is a zombie (not reaped: its group id cannot be reused); its group's stragglers go with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        child.close(force=True)  # reaps it and records the status
        self.exit = Exit(child.exitstatus, child.signalstatus, hung_up)
        return self.exit

    def _open(self) -> pexpect.spawn:
        if self._child is None or self.exit is not None:
            raise self._ended()
        return self._child

    def _ended(self, stalled: bool = False) -> ProcessEnded:
        end = self._finish(stalled) or Exit(None, None)  # it closed the line itself, unless it stopped reading
        return ProcessEnded(end, self.tail, self.wrote, stalled=stalled)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, READ_SIZE)
    except OSError:  # EIO: every holder of the terminal's other side has closed it
        return b""


def _raw_stdin() -> None:
    """In the child before exec: its terminal passes bytes unchanged (no echo, no line editing, no signals)."""
    tty.setraw(0)


def _exited(pid: int, wait: float) -> bool:
    """Whether the process has exited within `wait` seconds, without reaping it."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
