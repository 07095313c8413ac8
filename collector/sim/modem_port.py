"""How an emulated modem is reached: a pty pair, or the fakemodem:// pyserial URL handler (modelled DTR/DCD).

The port runs the modem's engine (`_run(link)`) on its own thread, one line at a time.
"""

from __future__ import annotations

import itertools
import os
import threading
import tty
from typing import Any, Self

from .fakemodem import FdLink, make_pair, register, unregister

_names = itertools.count(1)


class ModemPort:
    """Serves a modem engine on a pty or behind `fakemodem://NAME`; subclasses implement `_run(link)`."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._link: FdLink | None = None
        self._thread: threading.Thread | None = None
        self._name: str | None = None
        self.path: str | None = None

    def _run(self, link: FdLink) -> None:
        raise NotImplementedError

    def start_pty(self) -> str:
        """Serve on a new pty pair; returns the slave path the collector opens as serial:// or modem://."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._start(FdLink(master, extra_fds=(slave,)))
        return self.path

    def register(self, name: str | None = None) -> str:
        """Serve behind `fakemodem://name` (modelled DTR/DCD); returns the URL."""
        self._name = name or f"modem{next(_names)}"
        return register(self._name, self)

    def attach_fake(self) -> tuple[FdLink, Any]:
        """Called by the fakemodem handler when the collector opens the port: a fresh line, the same modem."""
        self._shutdown_engine()
        self._stop.clear()
        link, dte_sock, _state = make_pair()
        self._start(link)
        return link, dte_sock

    def _start(self, link: FdLink) -> None:
        self._link = link
        self._thread = threading.Thread(target=self._run, args=(link,), name="modem-emulator", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._name:
            unregister(self._name)
        self._shutdown_engine()

    def _shutdown_engine(self) -> None:
        self._stop.set()
        link, thread = self._link, self._thread
        if link is not None:
            link.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        self._thread = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

