"""Dial-in recovery: when a step is fetched by pieces instead of as one command, and the run's redial budget.

On a slow line (serial, modem) or after the link dropped mid-step, a composite command (IOS show tech) goes by its
sections and a shell step that may change the device goes through a staged file fetched by offsets, so a step
longer than any call still completes; nothing finished in one call is fetched again in the next.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..platforms import Platform
from ..session.session import Session
from ..store.journal import Journal
from ..store.records import StepRecord
from ..store.rundir import RunDir
from .budget import RedialBudget, budget_for
from .link import Link
from .observer import RunObserver
from .plan import PlannedStep

if TYPE_CHECKING:
    from .pieces import CompletedFn

# causes of an interrupted attempt that are no drop: an exception's name (Ctrl-C, SIGTERM), a crash, a declined plan
_NOT_A_DROP = re.compile(r"^(\w+|collector process died|not fetched by parts.*|not staged.*|the staged file .*)$")


def _dropped(rec: StepRecord | None) -> bool:
    """Did the link drop during the step's last attempt? (A fast line that dropped may drop again: go by pieces.
    After Ctrl-C or a crash the line is not known to be bad, and running the command whole is cheaper there.)"""
    last = rec.attempts[-1] if rec is not None and rec.attempts else None
    return last is not None and last.status == "interrupted" and not _NOT_A_DROP.match(last.cause or "")


class DialIn:
    """Used by StepRunner: `takes()` says whether a step goes by pieces, `run()` does it."""

    def __init__(self, link: Link, journal: Journal, rundir: RunDir, obs: RunObserver, allow_changes: bool,
                 completed: CompletedFn) -> None:
        self.link = link
        self.journal = journal
        self.rundir = rundir
        self.obs = obs
        self.allow_changes = allow_changes
        self.completed = completed
        self.platform: Platform = link.connector.platform
        self.declined: dict[int, int] = {}  # step -> the attempt that could not go by pieces: run whole from then on
        # every dial passes the budget; cleanup may still dial to switch debug off (a debugging device is worse)
        target = link.connector.target
        self.budget = RedialBudget(lambda: budget_for(target), exempt=lambda: link.cleaning and link.debug.on)
        link.connector.factory = self.budget.wrap(link.connector.factory)

    def _strategy(self, step: PlannedStep, kind: str) -> str | None:
        rec = self.journal.state.record(step.index, kind)
        if rec is not None and rec.plan is not None:
            return str(rec.plan.get("strategy"))  # continue what an earlier attempt (or run) planned
        if self.platform.composite_for(step.command) is not None:
            return "sections"
        if self.platform.staging is not None and step.may_change and self.allow_changes:
            return "staged"
        return None

    def takes(self, step: PlannedStep, kind: str, attempt: int, session: Session) -> bool:
        """A show step on a slow line, or after a drop mid-step, with a way to fetch it by pieces."""
        if kind != "show" or step.mode != "interactive" or step.index in self.declined:
            return False
        if step.resume == "offset" and step.offset_command:
            return False  # the playbook's own offset command decides
        rec = self.journal.state.record(step.index, kind)
        planned = rec is not None and rec.plan is not None
        slow = session.transport.line_rate is not None
        return self._strategy(step, kind) is not None and (planned or slow or (attempt > 1 and _dropped(rec)))

    def run(self, step: PlannedStep, kind: str, attempt: int) -> bool:
        """True when the step is recorded complete; False when declined (the caller runs it whole)."""
        from .composite import SectionFetcher  # the fetchers load only for a step fetched by pieces
        from .pieces import PieceRun
        from .staging import StagedFetcher

        ctx = PieceRun(self.link, self.journal, self.rundir, self.obs, step, kind, attempt, self.completed)
        strategy = self._strategy(step, kind)
        spec = self.platform.composite_for(step.command)
        if strategy == "sections" and spec is not None:
            done = SectionFetcher(ctx, spec, self.platform).run()
        elif strategy == "staged" and self.platform.staging is not None:
            done = StagedFetcher(ctx, self.platform.staging, step.may_change and self.allow_changes).run()
        else:
            done = False
        if not done:
            self.declined[step.index] = attempt
        return done

    # -- cleanup ------------------------------------------------------------------------------------------------
    def owes_cleanup(self) -> bool:
        """Temporary files are still on the device."""
        return bool(self.journal.state.staged) and self.platform.staging is not None

    def cleanup(self, session: Session) -> None:
        """Remove staged files left behind (a drop, Ctrl-C, a spent budget): part of the cleanup guarantee."""
        if self.platform.staging is not None and self.journal.state.staged:
            from .staging import remove_staged

            remove_staged(session, self.platform.staging, self.journal, dict(self.journal.state.staged))
