"""The `collector` command line: one module per group of commands, typed options, safe output.

Every CollectorError becomes one line plus a hint and the error class's exit code; never a traceback.
`collector version` answers before the command framework is even loaded.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main() -> None:
    if sys.argv[1:] in (["version"], ["--version"]):
        from .. import __version__

        print(__version__)
        return
    # pydantic looks for plugins in every installed distribution's entry points at its first model (7 ms here,
    # more in a large environment); collector uses none. An explicit setting of yours wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from ..transports.invoke_deferred import defer_invoke
    from .leave import leave
    from .main import main as run_app

    defer_invoke()
    try:
        run_app()
    except SystemExit as exc:
        leave(exc.code)
    leave(0)


def __getattr__(name: str) -> Any:
    if name == "app":
        from .main import app

        return app
    raise AttributeError(name)


__all__ = ["app", "main"]
