"""`python -m collector.schedule schedule add|list|remove|run-now|history` and `... scheduler`.

The same commands as `collector schedule ...` / `collector scheduler`, usable without the main CLI.
"""

import os
import sys

from .cli import standalone

try:
    standalone()(prog_name="python -m collector.schedule")
except Exception as exc:  # a bug: one line, the traceback with COLLECTOR_DEBUG=1 (as `collector` does)
    if os.environ.get("COLLECTOR_DEBUG"):
        raise
    print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(70)
