"""The cleanup guarantee: debug off and the playbook's cleanup steps, whatever happened before.

A link that dies during cleanup gets one more round; if it still cannot be sent, the run owes a cleanup.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CollectorError, ConnectionLost
from ..store.events import CleanupCompleted, CleanupFailed, CleanupPendingEvent, CleanupStarted, LinkLost
from ..store.journal import Journal
from .connector import ReconnectPolicy
from .debug_state import DebugTracker
from .link import Link
from .observer import RunObserver
from .plan import PlannedStep
from .settings_state import SettingsTracker
from .steps import StepRunner


@dataclass
class Cleanup:
    """Runs the cleanup steps (debug off first) whatever ended the run, reconnecting if it must."""

    link: Link
    journal: Journal
    obs: RunObserver
    debug: DebugTracker
    steps: list[PlannedStep]
    policy: ReconnectPolicy
    settings: SettingsTracker | None = None  # device settings the session changed (paging), restored here

    def owed(self, runner: StepRunner | None = None) -> bool:
        """Is there anything to clean up? Only when we ever reached the device."""
        staged = runner is not None and runner.dialin.owes_cleanup()  # temporary files of staged outputs
        return self.link.connected_once and (bool(self.steps) or self.debug.on or staged or self._settings_on())

    def _settings_on(self) -> bool:
        return self.settings is not None and self.settings.on

    def run(self, runner: StepRunner) -> str:
        """'done', 'pending' (debug may still be on), 'failed' (cleanup steps failed, debug is off) or 'none'."""
        if not self.owed(runner):
            return "none"
        self.journal.write(CleanupStarted(debug_on=self.debug.on))
        self.link.cleaning = True
        self.link.connector.policy = self.policy
        cause = ""
        for _ in range(2):  # a link that dies during cleanup gets one more round
            try:
                self._round(runner)
            except ConnectionLost as exc:
                cause = exc.message
                self.link.drop()
                continue
            except (CollectorError, OSError, KeyboardInterrupt) as exc:
                cause = exc.message if isinstance(exc, CollectorError) else repr(exc)
                break
            self.journal.write(CleanupCompleted())
            return "done"
        if not self.debug.on and not runner.dialin.owes_cleanup() and not self._settings_on():  # nothing is left
            self.journal.write(CleanupFailed(cause=cause))
            self.obs.notice(f"cleanup steps did not all run ({cause}); debug is off")
            return "failed"
        self.journal.write(CleanupPendingEvent(cause=cause))
        left = "a device setting is still changed" if self._settings_on() and not self.debug.on else \
            "debug may still be on"
        self.obs.notice(f"CLEANUP PENDING: {left}; run `collector resume` as soon as the device is reachable")
        return "pending"

    def _round(self, runner: StepRunner) -> None:
        if not self.link.alive():
            self.link.drop()
            self.journal.write(LinkLost(cause="link down at cleanup", raw_offset=self.link.connector.raw.offset,
                                        debug_on=self.debug.on))
            self.link.session = self.link.reconnect()
        session = self.link.live()
        if self.debug.on:
            self.debug.switch_off(session, "cleanup")
        runner.dialin.cleanup(session)
        for step in self.steps:
            rec = self.journal.state.record(step.index, "cleanup")
            if rec is not None and rec.done:
                continue
            runner.run(step, "cleanup")
        if self.settings is not None and self.settings.on:  # last: the playbook's cleanup ran with paging off
            self.settings.restore(session, "cleanup")
