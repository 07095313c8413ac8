"""What keeps a running device claimed while its worker lives, and frees it when the worker dies:

- the device lease (a key with a TTL naming the invocation that runs it): a second delivery of the same job
  waits while it is held, and takes over once it expires (the holder stopped renewing: it crashed);
- the message's visibility in kombu's Redis transport (the delivery's score in the `unacked_index` sorted set):
  renewed while the device runs, so a step longer than the visibility timeout is never redelivered, while a
  SIGKILLed worker's message is restored to its queue one visibility timeout after its last renewal.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

#: kombu's Redis transport default (transport option `unacked_index_key`), which collector's app keeps
UNACKED_INDEX = "unacked_index"

_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def take(r: redis.Redis, key: str, holder: str, ttl: float) -> bool:
    return bool(r.set(key, holder, nx=True, px=int(ttl * 1000)))


def holder_of(r: redis.Redis, key: str) -> str | None:
    value = r.get(key)
    return value.decode() if isinstance(value, bytes) else value


def renew(r: redis.Redis, key: str, holder: str, ttl: float) -> bool:
    return bool(r.eval(_RENEW, 1, key, holder, int(ttl * 1000)))


def release(r: redis.Redis, key: str, holder: str) -> None:
    r.eval(_RELEASE, 1, key, holder)


def keep_visible(r: redis.Redis, delivery_tag: str) -> None:
    """Move the delivery's timestamp to now (only if it is still unacked: XX never re-adds an acked one)."""
    r.zadd(UNACKED_INDEX, {delivery_tag: time.time()}, xx=True)
