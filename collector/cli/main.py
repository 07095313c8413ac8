"""The `collector` application: the command tree (built whole for help and completion, or just the command a
process runs), and the entry point. Help is plain text (readable at 80 columns, never markup); shell completion
comes with --install-completion.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import typer

from ..errors import CollectorError

SETTINGS: dict[str, Any] = dict(
    name="collector",
    help="Collect show/debug output from network devices and deliver it, verified and redacted, to a support case.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: command name -> (module in collector.cli, function): each module is imported only when its command is built
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run"), "resume": ("run", "resume"), "validate": ("playbooks", "validate"),
    "schema": ("playbooks", "schema"), "platforms": ("playbooks", "platforms"),
    "playbooks": ("playbooks_lib", "playbooks"), "parse": ("parse", "parse"), "bundle": ("bundles", "bundle"),
    "verify": ("bundles", "verify"), "upload": ("upload", "upload"), "demo": ("misc", "demo"),
    "version": ("misc", "version"), "worker": ("worker", "worker"),
}
GROUPS = ("sim", "schedule", "scheduler", "fleet")  # sub-apps and the schedule module's own command


def _function(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)  # type: ignore[no-any-return]


def _mount(root: typer.Typer, group: str) -> None:
    if group == "sim":
        from ..sim.cli import app as sim_app

        root.add_typer(sim_app, name="sim", help="Run the embedded device simulator (SSH/Telnet/serial/modem).")
    elif group in ("schedule", "scheduler"):
        from ..schedule.cli import mount as mount_schedule

        mount_schedule(root)
    elif group == "fleet":
        from .fleet import status as fleet_status

        fleet_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                                help="Fleets (collector run --inventory): status of each device.")
        fleet_app.command("status")(fleet_status)
        root.add_typer(fleet_app, name="fleet")


def build_app(only: str | None = None) -> typer.Typer:
    """The whole command tree, or only the command (or group) `only` when that is all a process will run:
    typer builds every option of every command it holds (~40 ms for all of them, ~8 ms for `run`)."""
    root = typer.Typer(**SETTINGS)
    if only is not None:
        root.callback()(_group_callback)  # a group even with one command: `collector run ...` keeps its name
    for name, (module, func) in COMMANDS.items():
        if only in (None, name):
            root.command(name)(_function(module, func))
    for group in ("sim", "schedule", "fleet"):
        if only is None or only == group or (group == "schedule" and only == "scheduler"):
            _mount(root, group)
    return root


def _group_callback() -> None:
    """Collect show/debug output from network devices and deliver it, verified and redacted, to a support case."""


def app_for(argv: list[str]) -> typer.Typer:
    """The app a command line needs: just its command when it names one, else everything (help, completion)."""
    first = argv[1] if len(argv) > 1 else None
    completing = any(k.startswith("_COLLECTOR_COMPLETE") for k in os.environ)
    if first is not None and not completing and (first in COMMANDS or first in GROUPS):
        return build_app(first)
    return build_app()


_FULL: list[typer.Typer] = []


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole tree, built on first use (tests, benchmarks, `collector.cli.app`)
        if not _FULL:
            _FULL.append(build_app())
        return _FULL[0]
    raise AttributeError(name)


def main() -> None:
    """Entry point: run the app, turning stray errors into one line (never a traceback)."""
    from ..ui.console import error_lines, say

    try:
        app_for(sys.argv)()
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
