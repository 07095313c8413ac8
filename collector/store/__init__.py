"""The store: run directories with byte-exact raw chunks, a journal and per-step outputs.

It knows files, never devices or prompts.
"""

from .chunks import RawStream, read_index
from .journal import Journal, read_journal
from .records import RunState, StepRecord, fold
from .rundir import RunDir

__all__ = ["RawStream", "read_index", "Journal", "read_journal", "RunState", "StepRecord", "fold", "RunDir"]
