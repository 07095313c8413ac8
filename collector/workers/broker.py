"""Redis connections for the side channels (status, leases, results): one client per process and URL, short
socket timeouts, and `retrying()` — a call repeated through a broker outage with one clear message while it lasts.

A broker URL may hold a password: only `shown(url)` (password replaced) is ever printed or recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..errors import UsageError

if TYPE_CHECKING:
    import redis

log = logging.getLogger("collector.workers")
T = TypeVar("T")
SCHEMES = ("redis", "rediss", "unix")
BACKOFF = (0.2, 0.5, 1.0, 2.0, 3.0)

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or (parts.scheme != "unix" and not parts.hostname):
        raise UsageError(f"broker {shown(url)!r} is not a Redis URL", hint="e.g. --via redis://queue.noc:6379/0")
    return url


def shown(url: str) -> str:
    """The URL without its password (safe to print, log and record)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def client(url: str) -> redis.Redis:
    import redis

    with _lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=15, socket_connect_timeout=5,
                                                 socket_keepalive=True, health_check_interval=10)
        return _clients[url]


def connection_errors() -> tuple[type[BaseException], ...]:
    import redis
    from kombu.exceptions import OperationalError

    return (redis.ConnectionError, redis.TimeoutError, OperationalError, ConnectionError, OSError)


class Outage:
    """Says once that the broker is down (and why), and once that it is back."""

    def __init__(self, url: str, say: Callable[[str], None] | None = None) -> None:
        self.url = url
        self.say = say or (lambda text: log.warning("%s", text))
        self.down_since: float | None = None

    def down(self, exc: BaseException) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.say(f"broker {shown(self.url)} unreachable ({type(exc).__name__}: {exc}); retrying — "
                     "nothing is lost meanwhile")

    def up(self) -> None:
        if self.down_since is not None:
            self.say(f"broker {shown(self.url)} reachable again after {time.monotonic() - self.down_since:.0f}s")
            self.down_since = None


def retrying(call: Callable[[], T], outage: Outage, stop: threading.Event | None = None,
             deadline: float | None = None) -> T:
    """call() until it gets through: broker errors are waited out (with backoff) until `stop` or `deadline`."""
    errors = connection_errors()
    attempt = 0
    while True:
        try:
            result = call()
        except errors as exc:
            outage.down(exc)
            if (stop is not None and stop.is_set()) or (deadline is not None and time.monotonic() > deadline):
                raise
            wait = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            if stop is not None:
                stop.wait(wait)
            else:
                time.sleep(wait)
            continue
        outage.up()
        return result
