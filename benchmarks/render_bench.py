"""Child job of the whole-process section: what printing a finished run costs, apart from running it (issue 12).

`python -m benchmarks.render_bench RUN_DIR RESULT.json`, with stdout and stderr on a terminal: replays the run's
progress lines through the CLI's RichObserver, prints the summary (`print_outcome`, table) and the --json document,
and writes the wall and CPU seconds of each part, plus the commands' own time (sum of the step durations).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], object]) -> dict[str, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}


def measure(run_dir: Path) -> dict[str, Any]:
    from collector.cli.outcome import print_outcome
    from collector.runner.runner import RunOutcome
    from collector.store.rundir import RunDir

    state = RunDir.open(run_dir).state()
    records = state.ordered()
    outcome = RunOutcome(run_dir, state.status, records)

    def rich_imports() -> None:
        import rich.console
        import rich.progress
        import rich.table
        import rich.text  # noqa: F401

    def progress() -> None:
        from collector.ui.console import err
        from collector.ui.progress import RichObserver

        obs = RichObserver(err())
        obs.run_started(str(run_dir), state.target or "", len(records))
        obs.connected({"transport": "ssh"})
        for r in records:
            obs.step_started(r.step, r.name)
            obs.bytes_read(r.bytes)
            obs.step_finished(r.step, r.name, r.status, r.bytes, r.duration or 0.0)
        obs.run_finished(state.status)

    parts = {"rich_import": timed(rich_imports), "progress": timed(progress),
             "table": timed(lambda: print_outcome(outcome, False)),
             "json": timed(lambda: print_outcome(outcome, True))}
    return {"steps": len(records), "commands_s": sum(r.duration or 0.0 for r in records), **parts}


def main(args: list[str]) -> int:
    run_dir, result = Path(args[0]), Path(args[1])
    result.write_text(json.dumps(measure(run_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
