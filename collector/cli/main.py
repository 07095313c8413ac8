"""The `collector` application: every command registered on one typer app, and the entry point.

Help is plain text (readable at 80 columns, never markup); shell completion comes with --install-completion.
"""

from __future__ import annotations

import os
import sys

import typer

from ..errors import CollectorError
from . import bundles, misc, parse, playbooks, playbooks_lib, run, upload, worker

app = typer.Typer(
    name="collector",
    help="Collect show/debug output from network devices and deliver it, verified and redacted, to a support case.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command()(run.run)
app.command()(run.resume)
app.command()(playbooks.validate)
app.command()(playbooks.schema)
app.command()(playbooks.platforms)
app.command("playbooks")(playbooks_lib.playbooks)
app.command()(parse.parse)
app.command()(bundles.bundle)
app.command()(bundles.verify)
app.command()(upload.upload)
app.command()(misc.demo)
app.command()(misc.version)
app.command()(worker.worker)


def _mount() -> None:
    from ..schedule.cli import mount as mount_schedule
    from ..sim.cli import app as sim_app
    from .fleet import status as fleet_status

    app.add_typer(sim_app, name="sim", help="Run the embedded device simulator (SSH/Telnet/serial/modem).")
    mount_schedule(app)
    fleet_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                            help="Fleets (collector run --inventory): status of each device.")
    fleet_app.command("status")(fleet_status)
    app.add_typer(fleet_app, name="fleet")


_mount()


def main() -> None:
    """Entry point: run the app, turning stray errors into one line (never a traceback)."""
    from ..ui.console import error_lines, say

    try:
        app()
    except CollectorError as exc:  # pragma: no cover - commands handle their own
        error_lines(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        say("interrupted", stderr=True)
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the details for COLLECTOR_DEBUG=1
        if os.environ.get("COLLECTOR_DEBUG"):
            raise
        say(("internal error: ", "bold red"), f"{type(exc).__name__}: {exc}", stderr=True)
        say(("hint: ", "dim"), "re-run with COLLECTOR_DEBUG=1 for the traceback and report it", stderr=True)
        sys.exit(70)
