"""Journal events of dial-in recovery: a step assembled from pieces (sections, or byte ranges of a staged output).

Registered with the codec like every other event (store/event_codec.py imports this module). Only the staged file
is write-ahead (durable): cleanup must know of it whatever happens; a lost piece record costs a re-fetch, and a
piece file is checked against its record before a resume trusts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import StepEvent


@dataclass(kw_only=True, eq=False, repr=False)
class PiecesPlanned(StepEvent):
    """A step will be fetched by pieces: the strategy, the pieces in order, and what learning them cost."""

    kind = "pieces-planned"
    strategy: str  # sections | staged
    pieces: list[str]  # the section commands in order (staged: the file's path)
    learnt_from: str  # list-command | staged
    list_bytes: int = 0  # what learning the list cost on the line (raw bytes) ...
    list_seconds: float = 0.0  # ... and in time
    reused: int = 0  # sections kept from an interrupted whole-command attempt (never fetched again)
    total: int | None = None  # staged: the output's exact size


@dataclass(kw_only=True, eq=False, repr=False)
class PieceCompleted(StepEvent):
    """One piece arrived whole: where it sits in the step file, its size, hash and timing."""

    kind = "piece-completed"
    piece: int  # 0-based (sections: position in the plan; staged: one per call)
    command: str
    offset: int  # where the piece starts in the step file
    bytes: int
    sha256: str | None = None
    file: str | None = None  # sections: the piece's own file until the step is assembled
    raw_start: int | None = None
    raw_end: int | None = None
    call: int = 1  # the call (1-based within the step's attempt) that fetched it; 0: kept from an earlier attempt
    seconds: float = 0.0
    gap: float | None = None  # idle time before its command was sent (None: first piece of a call)
    status: str = "ok"  # ok | error | timeout | reused
    error_marker: str | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class PieceInterrupted(StepEvent):
    """A piece was cut by a drop: what it kept, and why."""

    kind = "piece-interrupted"
    piece: int
    command: str
    bytes: int
    cause: str
    partial_file: str | None = None


@dataclass(kw_only=True, eq=False, repr=False)
class OutputStaged(StepEvent):
    """The output was written to a file on the device (durable: cleanup must remove it)."""

    kind = "output-staged"
    durable = True
    path: str
    command: str


@dataclass(kw_only=True, eq=False, repr=False)
class StagedRemoved(StepEvent):
    """The output staged on the device was removed."""

    kind = "staged-removed"
    path: str


@dataclass(kw_only=True, eq=False, repr=False)
class StepAssembled(StepEvent):
    """A step's pieces were joined into its file: calls, drops, bytes fetched again and goodput."""

    kind = "step-assembled"
    strategy: str
    pieces: int
    calls: int  # calls that carried this step's pieces
    drops: int
    redial_seconds: float  # from each drop to the next ready prompt (dial, login, session restore)
    received: int  # output bytes received for the step, counting bytes received more than once
    refetched: int  # received - bytes kept
    seconds: float  # wall time of the step (first call to last piece)
    goodput: float  # kept bytes / seconds
    line_rate: int | None = None
