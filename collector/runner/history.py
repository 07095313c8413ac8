"""What earlier runs of the same playbook against the same target produced: step sizes for ETAs.

On a 9600-bps line an ETA needs an expected size; the last completed run of the same pair gives it.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import StoreError
from ..store.rundir import RunDir, slugify


def expected_sizes(runs_dir: Path, target_slug: str, playbook_name: str) -> dict[str, int]:
    """Bytes per step name from the newest earlier run whose directory matches target and playbook."""
    suffix = f"-{slugify(target_slug)}-{slugify(playbook_name)}"
    if not runs_dir.is_dir():
        return {}
    candidates = sorted((p for p in runs_dir.iterdir() if p.is_dir() and p.name.endswith(suffix)), reverse=True)
    for path in candidates:
        try:
            state = RunDir.open(path).state()
        except StoreError:
            continue
        sizes = {r.name: r.bytes for r in state.ordered() if r.status == "ok" and r.bytes}
        if sizes:
            return sizes
    return {}
