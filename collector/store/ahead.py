"""Creates the next step files on a background thread while the current command runs, so a file system that
takes up to a millisecond to create a file (a busy or throttled disk) no longer adds that to every short command.

Where the file system allows (Linux O_TMPFILE), a prepared file has no name at all until a step takes it and links
it in under its `.writing` name: creating it does not hold the steps folder's lock against the step's own renames,
and a crash leaves nothing behind. Elsewhere it is an empty, hidden, anonymous `.ahead-NNNNNN` file (no command
text, so no secret, is ever in its name) renamed on take; files no step took are removed when the run closes, and
by resume after a crash (`remove_stale`). Nothing reads or bundles them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from pathlib import Path

PREFIX = ".ahead-"
DEPTH = 8  # files prepared at most at once unless asked for more: bounded descriptors, little to remove after a stop
O_TMPFILE = getattr(os, "O_TMPFILE", 0)


class FilesAhead:
    """Keeps up to `depth` empty files ready in `folder`, `count` in all; `take(tmp)` hands one over renamed to
    `tmp` (its descriptor open for writing), or None when none is ready (the caller opens the file itself)."""

    def __init__(self, folder: Path, count: int, depth: int = DEPTH) -> None:
        self.folder, self._left, self._depth = folder, count, max(1, min(depth, _descriptor_share()))
        self._ready: deque[tuple[int, Path | None]] = deque()  # (descriptor, name; None: nameless until taken)
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._seq = 0
        self._nameless = bool(O_TMPFILE)  # until the file system refuses O_TMPFILE once
        self._dirfd = -1  # the folder, for linkat: os.link without a directory descriptor calls link(2), which
        # links the /proc/self/fd symlink itself (EXDEV) instead of following it to the nameless file

    def start(self) -> FilesAhead:
        if self._left > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="collector-files-ahead", daemon=True)
            self._thread.start()
        return self

    def take(self, tmp: Path) -> int | None:
        with self._cond:
            item = self._ready.popleft() if self._ready else None
            self._cond.notify()
        if item is None:
            return None
        fd, path = item
        try:
            if path is None:  # name the nameless file (through /proc: unprivileged, unlike AT_EMPTY_PATH)
                os.link(f"/proc/self/fd/{fd}", os.path.abspath(tmp), dst_dir_fd=self._dirfd, follow_symlinks=True)
            else:
                os.replace(path, tmp)
        except OSError:
            os.close(fd)
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
            return None
        return fd

    def close(self) -> None:
        """Stop preparing; remove what no step took."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
        with self._cond:
            left, self._ready = list(self._ready), deque()
        for fd, path in left:
            _discard(fd, path)
        if self._dirfd >= 0:
            os.close(self._dirfd)
            self._dirfd = -1

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._left > 0 and len(self._ready) >= self._depth:
                    self._cond.wait()
                if self._closed or self._left <= 0:
                    return
                self._left -= 1
            made = self._create()
            if made is None:
                return  # the disk refuses: every step opens its own file and reports what goes wrong
            with self._cond:
                if not self._closed:
                    self._ready.append(made)
                    self._cond.notify_all()  # for whoever waits on what is ready (tests)
                    continue
            _discard(*made)
            return

    def _create(self) -> tuple[int, Path | None] | None:
        if self._nameless:
            try:
                if self._dirfd < 0:
                    self._dirfd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                return os.open(self.folder, O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o644), None
            except OSError:  # not supported by this file system (or kernel): named files from now on
                self._nameless = False
        for _ in range(1000):  # a name a killed run left behind is skipped, never reused
            self._seq += 1
            path = self.folder / f"{PREFIX}{self._seq:06d}"
            try:
                return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644), path
            except FileExistsError:
                continue
            except OSError:
                return None
        return None


def _descriptor_share() -> int:
    """A quarter of the open-file limit: prepared files never crowd out the sockets and files a run needs."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return DEPTH
    return 1 << 20 if soft == resource.RLIM_INFINITY else max(DEPTH, soft // 4)


def _discard(fd: int, path: Path | None) -> None:
    os.close(fd)  # a nameless file is gone with its descriptor
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


def is_ahead(name: str) -> bool:
    """A prepared file's name (never a step's: step files start with their number)."""
    return name.startswith(PREFIX)


def remove_stale(steps_dir: Path) -> int:
    """Prepared files a killed process left behind (empty, never a step's): removed before a resume."""
    removed = 0
    for p in steps_dir.glob(f"{PREFIX}*") if steps_dir.is_dir() else []:
        with contextlib.suppress(OSError):
            p.unlink()
            removed += 1
    return removed


__all__ = ["DEPTH", "PREFIX", "FilesAhead", "is_ahead", "remove_stale"]
