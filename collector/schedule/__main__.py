"""`python -m collector.schedule schedule add|list|remove|run-now|history` and `... scheduler`.

The same commands as `collector schedule ...` / `collector scheduler`, usable without the main CLI.
"""

from .cli import standalone

standalone()(prog_name="python -m collector.schedule")
