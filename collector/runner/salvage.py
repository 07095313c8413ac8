"""Crash recovery before a resume: step files left half-written by a killed process become partials.

The journal gets the interrupted attempt, so the manifest accounts for every byte that reached the disk.
"""

from __future__ import annotations

import os

from ..secrets import Masker
from ..store.events import StepInterrupted
from ..store.journal import Journal
from ..store.records import RunState
from ..store.rundir import RunDir


def salvage_partials(rd: RunDir, state: RunState, masker: Masker | None = None) -> RunState:
    """Step files still `.writing` become `.partial.N`; returns the refreshed run state."""
    journal = rd.journal(masker)
    try:
        return _salvage(rd, state, journal)
    finally:
        journal.close()


def _salvage(rd: RunDir, state: RunState, journal: Journal) -> RunState:
    for writing in sorted(rd.steps_dir.glob("*.writing")):
        final = writing.with_name(writing.name.removesuffix(".writing"))
        index = int(final.name.split("-", 1)[0]) if final.name[:3].isdigit() else 0
        key = ("main", index) if ("main", index) in state.steps else ("cleanup", index)
        rec = state.steps.get(key)
        attempt = len(rec.attempts) if rec and rec.attempts else 1
        partial = final.with_name(f"{final.name}.partial.{attempt}")
        os.replace(writing, partial)
        journal.write(StepInterrupted(step=index, kind_of_step="cleanup" if key[0] == "cleanup" else "show",
                                      attempt=attempt, bytes=partial.stat().st_size,
                                      partial_file=f"steps/{partial.name}", cause="collector process died"))
    return rd.state()
