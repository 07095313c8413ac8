"""Terminal-facing helpers for the CLI: credential prompts, progress display, error printing."""
