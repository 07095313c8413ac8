"""`parsed:` capture triggers: their command is run every `every` seconds and its parsed field compared with bounds.

A poll that crosses the bound fires the trigger (debounce and max_runs as for line triggers); debug lines that
arrive before the poll's echo stay in the capture. A poll that cannot be read is said once per trigger.
"""

from __future__ import annotations

from .capture_control import CaptureControl
from .capture_io import Collect
from .capture_state import CaptureState
from .guards import evaluate_parsed
from .triggers import Firing, Triggers, TriggerState


class Polls:
    """`due(now)` polls every parsed trigger whose time has come and returns the firings."""

    def __init__(self, state: CaptureState, control: CaptureControl, triggers: Triggers) -> None:
        self.s = state
        self.control = control
        self.triggers = triggers
        self.next: dict[int, float] = {}  # trigger number -> clock time of its next poll (absent: now)
        self.polls = 0
        self._said: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.triggers.polled)

    def due(self, now: float) -> list[Firing]:
        out: list[Firing] = []
        for st in self.triggers.polled:
            if now < self.next.get(st.number, now):
                continue
            firing = self._poll(st)
            self.next[st.number] = self.s.clock() + float(st.spec.every)
            if firing is not None:
                out.append(firing)
        return out

    def _poll(self, st: TriggerState) -> Firing | None:
        s = self.s
        command = st.spec.parsed
        assert command is not None
        collect = Collect()
        with s.live().tap(s.clock) as tap:
            s.command(command, collect, idle=s.step.idle_timeout)
        self.control.ingest_around(tap, command, after=False)
        self.polls += 1
        verdict = evaluate_parsed(st.spec, collect.data.decode("utf-8", "replace"), s.platform.name)
        if not verdict.found:
            if st.number not in self._said:
                self._said.add(st.number)
                s.obs.notice(f"capture {s.name}: trigger {st.number} cannot read its field: {verdict.reason}")
            return None
        if not verdict.over:
            return None
        return self.triggers.fire(st, f"{verdict.reason} (`{command}`)", s.clock())


__all__ = ["Polls"]
