"""The runner's hold on the device: one live session; after a drop, reconnect, debug off, session state back.

Every outage and reconnect is journaled; a link that keeps dropping while it is restored gives up, bounded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from ..errors import CollectorError, ConnectionLost
from ..session.session import Session
from ..store.events import Connected, LinkLost, ReconnectAttempt, Reconnected
from ..store.journal import Journal
from .connector import Connector
from .debug_state import DebugTracker
from .observer import RunObserver


class Link:
    """Holds the session; `live()` gives one (reconnecting when needed), `lost()` handles a drop."""

    def __init__(self, connector: Connector, journal: Journal, observer: RunObserver, debug: DebugTracker,
                 label: str, restore: Callable[[Session], None]) -> None:
        self.connector = connector
        self.journal = journal
        self.obs = observer
        self.debug = debug
        self.label = label
        self.restore = restore  # re-runs session-state steps (e.g. terminal monitor) on a new session
        self.session: Session | None = None
        self.connected_once = False
        self.cleaning = False  # during cleanup a reconnect never restores session state (no debug back on)
        connector.on_attempt = self._on_attempt

    def connect(self) -> Session:
        self.session = self.connector.connect()
        self.connected_once = True
        info = dict(self.session.transport.info)
        self.journal.write(Connected(link=info, prompt=self.session.prompt, mode=self.session.mode))
        self.obs.connected(info, self.session.transport.line_rate)
        return self.session

    def live(self) -> Session:
        if self.session is None:
            self.session = self.reconnect()
        return self.session

    def alive(self) -> bool:
        return self.session is not None and self.session.transport.alive()

    def drop(self) -> None:
        """Close the session without reconnecting (its device may still be mid-output)."""
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()
        self.session = None

    def lost(self, cause: str) -> Session:
        """The link is gone: journal the outage, reconnect, clean up debug, restore session state."""
        self.journal.write(LinkLost(cause=cause, raw_offset=self.connector.raw.offset, debug_on=self.debug.on))
        self.obs.notice(f"connection lost ({cause}); reconnecting")
        self.drop()
        self.session = self.reconnect()
        return self.session

    def reconnect(self) -> Session:
        """Reconnect, switch debug off if it was on, restore session state; a drop meanwhile starts over."""
        for _ in range(max(1, self.connector.policy.attempts)):
            session = self.connector.reconnect()
            self.session = session
            self.journal.write(Reconnected(link=dict(session.transport.info), prompt=session.prompt,
                                           mode=session.mode))
            self.obs.notice("reconnected")
            try:
                if self.debug.on:
                    self.debug.switch_off(session, "reconnect")
                if not self.cleaning:
                    self.restore(session)
            except ConnectionLost as exc:
                self.journal.write(LinkLost(cause=f"while restoring the session: {exc.message}",
                                            raw_offset=self.connector.raw.offset, debug_on=self.debug.on))
                self.drop()
                continue
            return session
        raise ConnectionLost(f"the link to {self.label} kept dropping while the session was restored")

    def _on_attempt(self, attempt: int, exc: BaseException | None) -> None:
        if attempt:
            error = (exc.message if isinstance(exc, CollectorError) else repr(exc)) if exc else None
            self.journal.write(ReconnectAttempt(attempt=attempt, error=error))
