"""`collector playbooks`: the playbook library (shipped and your own), what each is for, how long it takes and
what it leaves on the device; `--platform` shows those that run on one platform.

Names are what `collector run NAME` takes: `tac/high-cpu` runs the target platform's version.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..errors import CollectorError
from ..ui.console import fail, out, print_json, safe
from . import options as o


def _rows(platform: str | None) -> list[dict[str, Any]]:
    from ..playbook import load_playbook
    from ..playbook.library import library_entries
    from ..playbook.summary import summarise

    rows = []
    for entry in library_entries(platform):
        loaded = load_playbook(entry.path)
        summary = summarise(loaded.model.description)
        rows.append({"name": entry.name, "platform": entry.platform, "path": str(entry.path),
                     "source": entry.source, "description": loaded.model.description,
                     "purpose": summary.purpose if summary else loaded.model.description,
                     "takes": summary.takes if summary else "", "leaves": summary.leaves if summary else "",
                     "steps": len(loaded.model.steps)})
    return rows


def playbooks(
    platform: Annotated[str | None, typer.Option("--platform", metavar="NAME",
                                                 help="only those that run on this platform")] = None,
    as_json: o.Json = False,
) -> None:
    """List the playbook library: name, platform, how long it takes, what it leaves on the device, what it is for.

    Run one by name: collector run tac/high-cpu --platform NAME --target URL (or --inventory FILE).
    """
    from rich.table import Table

    try:
        if platform is not None:
            from ..platforms import load_platform

            load_platform(platform)  # an unknown name fails cleanly, with the known ones
        rows = _rows(platform)
    except CollectorError as exc:
        fail(exc)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"playbook library{' for ' + platform if platform else ''}: {len(rows)} playbooks")
    for col in ("name", "platform", "takes", "leaves", "what it is for"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(safe(r["name"]), safe(r["platform"]), safe(r["takes"]), safe(r["leaves"]), safe(r["purpose"]))
    out().print(table)
