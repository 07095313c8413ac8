"""Opens a ready session (transport + login + setup) and reopens it after a drop, with bounded backoff.

Authentication, host-key, usage and device-state errors are never retried.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..credentials import Credentials
from ..errors import (
    AuthenticationError,
    CollectorError,
    ConnectError,
    ConnectionLost,
    DeviceError,
    DialError,
    HostKeyError,
    UsageError,
)
from ..platforms import DeviceSetting, Platform
from ..session.session import Session
from ..store.chunks import RawStream
from ..target import Target
from ..transports.base import ConnectOptions, Transport
from ..transports.factory import make_transport

#: a context manager factory held around one connection attempt (transport open + login): login limits
LoginGate = Callable[[], contextlib.AbstractContextManager[object]]
NEVER_RETRY = (AuthenticationError, HostKeyError, UsageError, DeviceError)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, NEVER_RETRY) or (isinstance(exc, ConnectError) and not exc.retryable):
        return False  # e.g. a jump host that forbids forwarding, no common algorithm
    if isinstance(exc, DialError):
        return False  # the dialer applies its own policy table; a final dial result is final
    return isinstance(exc, ConnectError | ConnectionLost | OSError | EOFError | TimeoutError)


@dataclass
class ReconnectPolicy:
    """How often and how long to try reconnecting after a drop, and the back-off between tries."""

    attempts: int = 5
    within: float = 1800.0
    initial_wait: float = 1.0
    max_wait: float = 30.0
    jitter: float = 1.0


class Connector:
    """Builds sessions for one target; `connect()` first time, `reconnect()` after a drop."""

    def __init__(
        self,
        target: Target,
        options: ConnectOptions,
        platform: Platform,
        raw: RawStream,
        *,
        policy: ReconnectPolicy | None = None,
        progress: Callable[[int], None] | None = None,
        on_attempt: Callable[[int, BaseException | None], None] | None = None,
        login_timeout: float = 60.0,
        send_break: bool = False,
        factory: Callable[[Target, ConnectOptions], Transport] = make_transport,
        gate: LoginGate | None = None,
        before_change: Callable[[DeviceSetting], None] | None = None,
    ) -> None:
        self.target = target
        self.options = options
        self.platform = platform
        self.raw = raw
        self.policy = policy or ReconnectPolicy()
        self.progress = progress
        self.on_attempt = on_attempt
        self.login_timeout = login_timeout
        self.send_break = send_break
        self.factory = factory
        self.gate = gate
        self.before_change = before_change  # journals a device-setting change before the session makes it
        self.connects = 0

    def _open_once(self) -> Session:
        with self.gate() if self.gate is not None else contextlib.nullcontext():
            return self._open()

    def _open(self) -> Session:
        transport = self.factory(self._login_target(), self.options)
        try:
            transport.open()
            session = Session(transport, self.platform, self._credentials(), self.raw, progress=self.progress,
                              send_break=self.send_break, before_change=self.before_change)
            session.open(timeout=self.login_timeout)
        except BaseException:
            transport.close()
            raise
        self.connects += 1
        return session

    def _login_target(self) -> Target:
        """The target as the transport logs in: with the platform's login options after the user (RouterOS)."""
        suffix = self.platform.username_suffix
        if not suffix or not self.target.user or self.target.user.endswith(suffix):
            return self.target
        return dataclasses.replace(self.target, user=self.target.user + suffix)

    def _credentials(self) -> Credentials:
        creds = self.options.credentials
        suffix = self.platform.username_suffix
        if not suffix or not creds.username or creds.username.endswith(suffix):
            return creds
        return dataclasses.replace(creds, username=creds.username + suffix)

    def connect(self) -> Session:
        """First connection. Unreachable targets fail at once (the user is watching, and a wrong
        address should not cost minutes); a link that drops during login is retried like any drop."""
        try:
            return self._open_once()
        except ConnectionLost:
            return self.reconnect()

    def reconnect(self) -> Session:
        """After a drop: retry with exponential backoff and jitter, bounded by attempts and time."""
        from tenacity import (  # loaded when a link first drops: most runs never need it
            RetryCallState,
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            stop_before_delay,
            wait_exponential_jitter,
        )

        started = time.monotonic()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if self.on_attempt:
                self.on_attempt(state.attempt_number, exc)

        retrying = Retrying(
            stop=stop_after_attempt(self.policy.attempts) | stop_before_delay(self.policy.within),
            wait=wait_exponential_jitter(multiplier=self.policy.initial_wait, max=self.policy.max_wait,
                                         jitter=self.policy.jitter),
            retry=retry_if_exception(_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            session: Session = retrying(self._open_once)
        except CollectorError:
            raise
        except OSError as exc:
            raise ConnectError(
                f"could not reconnect to {self.target.display()} within "
                f"{time.monotonic() - started:.0f}s: {exc}"
            ) from exc
        if self.on_attempt:
            self.on_attempt(0, None)
        return session
