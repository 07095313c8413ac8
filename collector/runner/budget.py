"""The run's redial budget: every dial the connector makes passes here; automatic redials are bounded per run.

Regulators limit automatic redials, and a line that drops every minute would otherwise redial forever. The budget
is the target's `redials=N` option (modem targets: DEFAULT_MODEM_REDIALS); when it is spent the run stops, exit 15,
and `collector resume RUN_DIR` continues with a fresh budget from the pieces already fetched.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ConnectError, UsageError
from ..target import Target
from ..transports.base import ConnectOptions, Transport

DEFAULT_MODEM_REDIALS = 10

Factory = Callable[[Target, ConnectOptions], Transport]


class RedialBudgetSpent(ConnectError):
    """The run used every automatic redial it may make; never retried, resumable."""

    exit_code = 15
    retryable = False
    hint = ("the line kept dropping: `collector resume RUN_DIR` continues from the pieces already fetched "
            "(the target option redials=N sets how many automatic redials one run may make)")


def budget_for(target: Target) -> int | None:
    """Automatic redials one run may make: `?redials=N`, else DEFAULT_MODEM_REDIALS on modems, else unbounded."""
    raw = target.options.get("redials")
    if raw is None:
        return DEFAULT_MODEM_REDIALS if target.scheme == "modem" else None
    if not raw.strip().isdigit():
        raise UsageError(f"bad redials={raw!r}", hint="redials is a whole number of automatic redials per run")
    return int(raw)


class RedialBudget:
    """Counts dials (the first connect is not a redial); refuses one more once `limit` redials were made.

    `limit` may be a callable, read at the first dial (a bad `redials=` option then fails the run cleanly).
    `exempt()` lets a dial through anyway (cleanup that must switch debug off: a device left debugging is worse).
    """

    def __init__(self, limit: int | None | Callable[[], int | None],
                 exempt: Callable[[], bool] = lambda: False) -> None:
        self._limit = limit
        self.exempt = exempt
        self.dials = 0

    @property
    def limit(self) -> int | None:
        if callable(self._limit):
            self._limit = self._limit()
        return self._limit

    @property
    def redials(self) -> int:
        return max(0, self.dials - 1)

    @property
    def spent(self) -> bool:
        return self.limit is not None and self.redials >= self.limit

    def wrap(self, factory: Factory) -> Factory:
        """The connector's transport factory, counted: each transport made is one dial."""

        def dial(target: Target, options: ConnectOptions) -> Transport:
            limit = self.limit  # read (and checked) at the first dial
            if self.dials and limit is not None and self.redials >= limit and not self.exempt():
                raise RedialBudgetSpent(
                    f"redial budget spent: {self.redials} automatic redial(s) made, {limit} allowed per run"
                )
            self.dials += 1
            return factory(target, options)

        return dial
