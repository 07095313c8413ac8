"""How a finished run is reported: the summary table or one JSON document, the error, and the exit code.

Exit codes are the README's table; a device left in user mode gets one hint with the fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..ui.console import err, error_lines, out, print_json, say

if TYPE_CHECKING:
    from ..runner.runner import RunOutcome

EXIT_STEP_ERRORS = 5
USER_MODE_HINT = ("the device stayed in user mode, where these commands are not allowed; "
                  "give the enable secret with --enable-env VAR or --ask-enable")


def print_outcome(outcome: RunOutcome, as_json: bool, extra: dict[str, Any] | None = None, *,
                  enable_hint: bool = True) -> int:
    from ..runner.signals import peak_rss_kib
    from ..ui.progress import summary_table

    hints = [USER_MODE_HINT] if outcome.user_mode and enable_hint else []
    if as_json:
        print_json({
            "run_dir": str(outcome.run_dir), "status": outcome.status,
            "error": outcome.error.message if outcome.error else None,
            "bytes": sum(r.bytes for r in outcome.steps), "peak_rss_kib": peak_rss_kib(), "hints": hints,
            **(extra or {}), "steps": [r.to_json() for r in outcome.steps],
        })
    else:
        out().print(summary_table(outcome.steps, f"{outcome.run_dir.name}: {outcome.status}"))
        say("run directory: ", str(outcome.run_dir))
    for hint in hints:
        say(("hint: ", "yellow"), hint, stderr=True)
    if outcome.error is not None:
        error_lines(outcome.error)
        if outcome.status == "cleanup-pending":
            err().print(f"CLEANUP PENDING: debug may still be on at the device. Run `collector resume "
                        f"{outcome.run_dir}` as soon as it is reachable.", style="bold red", markup=False)
        return outcome.error.exit_code
    return EXIT_STEP_ERRORS if outcome.status == "completed-with-errors" else 0
