"""`collector demo` (the whole path on the embedded simulator) and `collector version`.

`version` imports nothing beyond the CLI itself, so it answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import CollectorError
from ..ui.console import err, fail, say
from . import options as o


def demo(
    runs_dir: o.RunsDir = Path("runs"),
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR", help="bundle directory")] = Path("bundles"),
    show_tech_mb: Annotated[int, typer.Option("--show-tech-mb", metavar="MB",
                                              help="size of the simulated show tech")] = 8,
    verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Start the simulator, run the TAC baseline playbook over SSH, bundle it, print the path."""
    from ..demo import run_demo
    from . import logs

    logs.setup(verbose, log_file)

    try:
        code, bundle_path = run_demo(runs_dir, out_dir, show_tech_mb, err())
    except CollectorError as exc:
        fail(exc)
    if bundle_path is not None:
        say(("bundle: ", "bold"), str(bundle_path))
    raise typer.Exit(code)


def version() -> None:
    """Print the collector version."""
    from .. import __version__

    print(__version__)
