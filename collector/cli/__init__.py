"""The `collector` command line: one module per group of commands, typed options, safe output.

Every CollectorError becomes one line plus a hint and the error class's exit code; never a traceback.
`collector version` answers before the command framework is even loaded.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any


def main() -> None:
    if sys.argv[1:] in (["version"], ["--version"]):
        from .. import __version__

        print(__version__)
        return
    prepare_process()
    from .leave import leave
    from .main import main as run_app

    try:
        run_app()
    except SystemExit as exc:
        leave(exc.code)
    leave(0)


def prepare_process() -> None:
    """How the `collector` process sets itself up before it loads its commands (benchmarks that run the app in
    their own process call this too, to measure what a user runs)."""
    from ..transports.invoke_deferred import defer_invoke
    from .pydantic_plugins import skip_plugin_scan

    # pydantic looks for plugins in every installed distribution's entry points at its first model (7 ms here,
    # more in a large environment) after importing importlib.metadata (20-30 ms); collector uses none. An
    # explicit setting of yours wins, and then pydantic reads it as always.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    skip_plugin_scan()
    # the cyclic collector runs every 700 allocations by default: ~160 times (50-70 ms) in a 500-step run, most of
    # them while modules load. Every 10,000 keeps cycles collected in day-long captures at a tenth of the cost.
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    defer_invoke()  # before anything imports paramiko


def __getattr__(name: str) -> Any:
    if name == "app":
        from .main import app

        return app
    raise AttributeError(name)


__all__ = ["app", "main", "prepare_process"]
