"""File commands of the simulated Linux shell: write an output to a file, its size, a byte range, remove it.

Exactly the shapes of the linux platform's `staging` data; files live in memory on the SimDevice (all calls see them).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator

from .events import EventLog

_PATH = r"(?P<path>/[A-Za-z0-9_./-]+)"
STAGE = re.compile(rf"^\(umask 077; set -C; exec >{_PATH} 2>&1 && \((?P<command>.+)\)\)$")
SIZE = re.compile(rf"^wc -c < {_PATH}$")
TAIL = re.compile(rf"^tail -c \+(?P<start>\d+) {_PATH}$")
REMOVE = re.compile(rf"^rm -f {_PATH}$")
MAX_FILE = 256 << 20  # a bigger staged output fails like a full /tmp

Produce = Callable[[str], Iterable[bytes] | None]  # a command's LF output, or None when the shell does not know it


class ShellFiles:
    """The files a simulated host holds; `run(line, produce)` answers the file commands, None for any other."""

    def __init__(self, events: EventLog) -> None:
        self.events = events
        self.files: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def run(self, line: str, produce: Produce) -> Iterator[bytes] | None:
        text = " ".join(line.split())
        if m := STAGE.match(text):
            return self._stage(m.group("path"), m.group("command"), produce)
        if m := SIZE.match(text):
            data = self._get(m.group("path"))
            return self._missing(m.group("path")) if data is None else iter((f"{len(data)}\n".encode(),))
        if m := TAIL.match(text):
            data = self._get(m.group("path"))
            if data is None:
                return self._missing(m.group("path"), "tail: cannot open '{path}' for reading")
            start = max(0, int(m.group("start")) - 1)
            return iter((data[start:],)) if start < len(data) else iter(())
        if m := REMOVE.match(text):
            with self._lock:
                gone = self.files.pop(m.group("path"), None)
            self.events.record("file-remove", path=m.group("path"), existed=gone is not None)
            return iter(())
        return None

    def _get(self, path: str) -> bytes | None:
        with self._lock:
            return self.files.get(path)

    @staticmethod
    def _missing(path: str, form: str = "-bash: {path}: No such file or directory") -> Iterator[bytes]:
        return iter(((form.format(path=path) + "\n").encode(),))

    def _stage(self, path: str, command: str, produce: Produce) -> Iterator[bytes]:
        with self._lock:
            if path in self.files:  # set -C: never over an existing file
                return iter((f"-bash: {path}: cannot overwrite existing file\n".encode(),))
            self.files[path] = b""
        out = produce(command)
        unknown = f"-bash: {command.split()[0]}: command not found\n".encode()
        data = unknown if out is None else b"".join(out)[:MAX_FILE]
        with self._lock:
            self.files[path] = data
        self.events.record("file-write", path=path, bytes=len(data), command=command)
        return iter(())
