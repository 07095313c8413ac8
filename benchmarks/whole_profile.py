"""py-spy of one whole `collector run` process: where its wall time goes (imports, playbook, login, commands,
printing), as shares of the main thread's samples (recorded with --idle) scaled to the unprofiled median.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .measure import run_whole
from .profile_summary import phase_table, summarize_collapsed

RATE_HZ = 250


def profile_whole(argv: list[str], label: str, wall_s: float | None, root: Path, terminal: bool = True) -> str:
    """A Markdown block: the phase table and the busiest frames outside imports, for one profiled run of argv."""
    pyspy = str(Path(sys.executable).with_name("py-spy"))
    if not os.path.exists(pyspy):
        return f"### whole `collector run`, {label}\n\npy-spy is not installed (`.venv/bin/pip install py-spy`)."
    with tempfile.TemporaryDirectory(prefix="bench-spy-") as tmp:
        out = Path(tmp) / "stacks.txt"
        sample = run_whole([pyspy, "record", "--idle", "-r", str(RATE_HZ), "-f", "raw", "-o", str(out), "--",
                            *argv], 900, terminal=terminal, tool="py-spy", case=label,
                           env={"COLLECTOR_HOME": str(root / "home")})
        if not out.exists():
            return f"### whole `collector run`, {label}\n\npy-spy produced nothing ({sample.error})."
        text = out.read_text()
    busy = summarize_collapsed(text, top=12, exclude=("<frozen importlib",), main_only=True, inclusive=False)
    return (f"### whole `collector run`, {label} (py-spy --idle at {RATE_HZ} Hz, main thread)\n\n"
            f"{phase_table(text, wall_s)}\n\nInnermost frames of the main thread outside imports (waits included):"
            f"\n\n{busy}")
