"""cmd://: any local program that gives a console (virsh console, docker exec -it, cu, conserver's console ...).

The program runs from its argv (never through a shell) on a pty, and that pty is the device line: the session
does the login dialog, prompts and paging as on a serial console. Its exit is recorded in `info`. The pty starts
as a terminal usually does (console programs switch it to raw themselves); `&tty=raw` starts it raw for plain
byte relays; `&line_rate=BPS` declares a console line (the session logs out before the program is ended).
"""

from __future__ import annotations

import os

from ..errors import CollectorError, ConnectError, ConnectionLost, UsageError
from ..target import Target
from .base import ConnectOptions, Transport
from .client_failures import last_line
from .pty_process import ProcessEnded, ProgramNotFound, PtyProcess, child_environment


class CmdTransport(Transport):
    """A spawned program's terminal as a byte pipe; a new process on every (re)connect."""

    def __init__(self, target: Target, options: ConnectOptions) -> None:
        super().__init__(target, options)
        if not target.argv:
            raise UsageError("cmd:// needs a command", hint="write it as cmd://?argv=virsh+console+vm-r1")
        self.info = {"transport": "cmd", "program": os.path.basename(target.argv[0])}
        self._proc: PtyProcess | None = None

    @property
    def where(self) -> str:
        return f"`{' '.join(self.target.argv)}`"

    def open(self) -> None:
        if self.options.jumps:
            raise UsageError("--jump does not apply to cmd:// targets", hint="let the command itself reach the device")
        env = child_environment(self.options.credentials, {"TERM": self.options.term})
        proc = PtyProcess(list(self.target.argv), env=env, rows=self.options.height, cols=self.options.width,
                          raw=self.target.option("tty") == "raw")
        try:
            proc.spawn()
        except ProgramNotFound:
            raise UsageError(f"cmd://: {self.target.argv[0]!r} is not an executable program (not found on PATH)",
                             hint="give the program's full path, or install it") from None
        except OSError as exc:
            raise UsageError(f"cmd://: cannot start {self.target.argv[0]!r} ({exc.strerror or exc})",
                             hint="check that the program is executable") from None
        self._proc = proc

    def read(self, timeout: float | None) -> bytes:
        try:
            return self._live().read(timeout)
        except ProcessEnded as end:
            raise self._ended(end) from None

    def write(self, data: bytes) -> None:
        try:
            self._live().write(data)
        except ProcessEnded as end:
            raise self._ended(end) from None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.alive()

    @property
    def line_rate(self) -> int | None:
        """`&line_rate=9600` declares a console line: logged out at the end, slow-line capture mode."""
        rate = self.target.option("line_rate")
        return int(rate) if rate else None

    def close(self) -> None:
        if self._proc is not None:
            end = self._proc.close()
            if end is not None:
                self.info.update(end.info())

    def _live(self) -> PtyProcess:
        if self._proc is None:
            raise ConnectionLost(f"{self.where}: not started")
        return self._proc

    def _ended(self, end: ProcessEnded) -> CollectorError:
        """Ended before we sent it anything: it exited at once (a connect error). Later: the line dropped."""
        self.info.update(end.end.info())
        said = last_line(end.tail)
        shown = f'; last output line: "{said}"' if said else "; it printed nothing"
        if end.stalled:
            return ConnectionLost(f"{self.where} stopped reading its input; ended it")
        if not end.wrote:
            return ConnectError(f"{self.where} exited at once ({end.end.describe()}{shown})",
                                hint="run the command by hand to see why it does not give a console")
        return ConnectionLost(f"{self.where} ended ({end.end.describe()}{shown})")
