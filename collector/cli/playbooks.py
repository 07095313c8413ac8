"""`collector validate`, `schema` and `platforms`: playbooks and platforms without touching a device.

Validation reports every schema error and every command the read-only guard refuses, each with file:line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import CollectorError
from ..ui.console import fail, print_json, say
from . import logs
from . import options as o


def validate(
    playbooks: Annotated[list[Path], typer.Argument(metavar="PLAYBOOK...", help="playbook YAML file(s)")],
    allow_changes: o.AllowChanges = False,
    as_json: o.Json = False, verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Check playbooks: schema errors and read-only guard refusals, with file, line and a hint.

    Exit 3 when any file has a schema error, else 4 when the guard refuses a command.
    """
    from ..playbook import validate_with_guard

    try:
        logs.setup(verbose, log_file)
        reports = [validate_with_guard(path, allow_changes) for path in playbooks]
    except CollectorError as exc:
        fail(exc)
    if as_json:
        print_json({"ok": not any(r.exit_code for r in reports), "playbooks": {
            str(r.path): {"exit_code": r.exit_code,
                          "problems": [{"message": text, "hint": hint} for text, hint in r.lines()]}
            for r in reports}})
    else:
        for report in reports:
            for text, hint in report.lines():
                say((text, "red"), stderr=True)
                if hint:
                    say(("  hint: ", "dim"), hint, stderr=True)
            if not report.exit_code:
                say(str(report.path), ": ok")
    codes = {r.exit_code for r in reports}
    if codes - {0}:
        raise typer.Exit(3 if 3 in codes else 4)


def schema() -> None:
    """Print the playbook JSON Schema (point your editor's YAML plugin at it)."""
    from ..playbook import playbook_json_schema

    print_json(playbook_json_schema())


def platforms(as_json: o.Json = False) -> None:
    """List the platforms (built in and your own) with what each one is."""
    from ..platforms import list_platforms, load_platform

    rows = [(name, load_platform(name).description) for name in list_platforms()]
    if as_json:
        print_json([{"name": n, "description": d} for n, d in rows])
        return
    width = max(len(n) for n, _ in rows)
    for name, description in rows:
        say((name.ljust(width), "bold"), "  ", description)
