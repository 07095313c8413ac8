"""The end of a fleet run, local or through workers: the bundle when asked, then the table or JSON and the exit
code (a bundle failure never hides the devices' verdict)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CollectorError
from ..ui.console import error_lines, out, print_json, say

if TYPE_CHECKING:
    from ..fleet.session import FleetOutcome


def conclude(outcome: FleetOutcome, as_json: bool, bundle_dir: Path | None, secrets: list[Any],
             extra: dict[str, Any] | None = None) -> int:
    """Bundle (when asked), then the table or JSON and the exit code; a bundle failure never hides the verdict."""
    extra = dict(extra or {})
    bundle_error: CollectorError | None = None
    if bundle_dir is not None:
        from .bundles import bundle_fleet

        try:
            result = bundle_fleet(outcome.fleet.path, bundle_dir, quiet=True, extra_secrets=secrets)
            extra["bundle"] = str(result.path)
        except CollectorError as exc:  # the devices' outcome stays the verdict; the bundle can be made again
            bundle_error = exc
            extra["bundle_error"] = exc.message
    code = report(outcome, as_json, extra)
    if bundle_error is not None:
        error_lines(bundle_error)
        return code or bundle_error.exit_code
    return code


def report(outcome: FleetOutcome, as_json: bool, extra: dict[str, Any]) -> int:
    from ..fleet.report import table, to_json

    v = outcome.verdict
    if as_json:
        print_json(to_json(outcome.results, v, {"fleet_dir": str(outcome.fleet.path),
                                                "run_dir": str(outcome.fleet.path), **extra}))
    else:
        out().print(table(outcome.results, f"{outcome.fleet.path.name}: {v.status}"))
        say("fleet directory: ", str(outcome.fleet.path))
        if extra.get("bundle"):
            say(("bundle: ", "bold"), extra["bundle"])
    if v.error is not None:
        error_lines(v.error)
    return v.exit_code
