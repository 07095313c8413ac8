"""The fleet's verdict: one status and exit code for all devices, the failed ones named with why, the final table
and the JSON document (`--json`).

Exit codes (README): 0 every device ok; 5 every device completed, some steps reported errors; 6 some devices
failed (the others completed); 7 no device completed; 23 a device owes a cleanup (debug may still be on);
130 the fleet was interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CleanupPending, CollectorError, FleetFailed, FleetPartial, Interrupted
from .job import JobResult

if TYPE_CHECKING:
    from rich.table import Table


@dataclass
class Verdict:
    status: str  # ok | step-errors | some-failed | none-ok | cleanup-pending | interrupted
    exit_code: int
    error: CollectorError | None
    failed: list[JobResult]

    def counts(self, results: list[JobResult]) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in results:
            out[r.status] = out.get(r.status, 0) + 1
        return dict(sorted(out.items()))


def reason(r: JobResult) -> str:
    return f"{r.device}: {r.status}" + (f" ({r.error})" if r.error else "")


def verdict(results: list[JobResult], interrupted: bool) -> Verdict:
    failed = [r for r in results if not r.ok]
    pending = [r for r in results if r.status == "cleanup-pending"]
    named = "; ".join(reason(r) for r in failed[:10]) + (f"; and {len(failed) - 10} more" if len(failed) > 10 else "")
    if interrupted:
        err: CollectorError = Interrupted(f"the fleet was stopped; {len(failed)} device(s) did not finish",
                                          hint="continue with `collector resume FLEET_DIR`")
        return Verdict("interrupted", err.exit_code, err, failed)
    if pending:
        err = CleanupPending("debug may still be on at: " + ", ".join(r.device for r in pending),
                             hint="run `collector resume FLEET_DIR` as soon as they are reachable: it switches "
                                  "debug off first")
        return Verdict("cleanup-pending", err.exit_code, err, failed)
    if results and len(failed) == len(results):
        err = FleetFailed(f"no device completed: {named}")
        return Verdict("none-ok", err.exit_code, err, failed)
    if failed:
        err = FleetPartial(f"{len(failed)} of {len(results)} devices failed: {named}")
        return Verdict("some-failed", err.exit_code, err, failed)
    if any(r.status == "completed-with-errors" for r in results):
        return Verdict("step-errors", 5, None, failed)
    return Verdict("ok", 0, None, failed)


def to_json(results: list[JobResult], v: Verdict, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **extra, "status": v.status, "exit_code": v.exit_code, "error": v.error.message if v.error else None,
        "counts": v.counts(results), "failed": [{"device": r.device, "status": r.status, "error": r.error}
                                                for r in v.failed],
        "bytes": sum(r.bytes for r in results),
        "devices": [r.model_dump(mode="json") for r in results],
    }


def table(results: list[JobResult], title: str, limit: int = 60) -> Table:
    """One row per device (failures first past `limit` rows), device text printed as data."""
    from rich.table import Table

    from ..ui.console import clean, safe

    t = Table(title=safe(clean(title, keep_newlines=False)))
    for col, just in (("device", "left"), ("status", "left"), ("steps", "right"), ("bytes", "right"),
                      ("time", "right"), ("why", "left")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    shown = sorted(results, key=lambda r: r.ok) if len(results) > limit else results
    for r in shown[:limit]:
        style = "green" if r.status == "ok" else "yellow" if r.ok else "red"
        t.add_row(safe(r.device), safe(r.status, style), f"{r.steps_ok}/{r.steps}", f"{r.bytes:,}",
                  f"{r.duration:.1f}s", safe(clean(r.error or "", keep_newlines=False)[:80]))
    if len(results) > limit:
        t.caption = f"{len(results) - limit} more devices not shown; --json lists every device"
    return t
