"""Debounced on_match triggers of a capture: which trigger fires for a captured line (or a polled parsed field), and
how often.

Pure logic over a clock: the capture engine runs the commands (and the polls); this module only decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..playbook.schema import Trigger


@dataclass
class TriggerState:
    """One on_match entry: its compiled regex, runs so far, when it last fired and what it ignored."""

    number: int  # 1-based position in on_match (names the step files)
    spec: Trigger
    regex: re.Pattern[str] | None  # None: a `parsed:` trigger (polled, see capture_polls.py)
    runs: int = 0
    last: float | None = None  # clock time of the last run's end (debounce starts there)
    ignored: int = 0  # matches ignored by debounce or max_runs
    fired_at: list[float] = field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        return self.runs >= int(self.spec.max_runs)


@dataclass
class Firing:
    """A decision to run a trigger now: which trigger, its run number (1-based) and the line that matched."""

    trigger: TriggerState
    run: int
    line: str


class Triggers:
    """`check(line, now)` says which triggers fire; `done(firing, now)` starts their debounce window.

    A trigger fires when its regex matches a line, it has run fewer than max_runs times, and at least
    `debounce` seconds passed since its previous run ended. Other matches are counted as ignored.
    """

    def __init__(self, specs: list[Trigger]) -> None:
        self.states = [TriggerState(i, s, re.compile(s.match) if s.match is not None else None)
                       for i, s in enumerate(specs, start=1)]

    def __bool__(self) -> bool:
        return any(st.regex is not None for st in self.states)

    @property
    def polled(self) -> list[TriggerState]:
        """The `parsed:` triggers: the capture polls their command every `every` seconds."""
        return [st for st in self.states if st.regex is None]

    def check(self, line: str, now: float) -> list[Firing]:
        out: list[Firing] = []
        for st in self.states:
            if st.regex is None or st.regex.search(line) is None:
                continue
            firing = self.fire(st, line, now)
            if firing is not None:
                out.append(firing)
        return out

    def fire(self, st: TriggerState, line: str, now: float) -> Firing | None:
        """The trigger's condition holds now: a Firing, unless debounce or max_runs say no (counted as ignored)."""
        if st.exhausted or (st.last is not None and now - st.last < float(st.spec.debounce)):
            st.ignored += 1
            return None
        st.runs += 1
        st.last = now  # also blocks a second firing for a line later in the same read
        st.fired_at.append(now)
        return Firing(st, st.runs, line)

    def done(self, firing: Firing, now: float) -> None:
        """The firing's commands finished at `now`: the debounce window starts here."""
        firing.trigger.last = now

    @property
    def fired(self) -> int:
        return sum(st.runs for st in self.states)


__all__ = ["Firing", "TriggerState", "Triggers"]
