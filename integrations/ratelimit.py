"""Sliding-window rate limits shared by every worker: at most ``limit`` events per key in any
``window`` seconds (Kivra: 50 contents per recipient a minute).

With a broker (``REDIS_URL``, real workers) the windows live in Redis, so two worker
machines sending to the same recipient share one count; the clock is Redis's own (``TIME``
inside the script), not each machine's. Without one (eager Celery, the embedded first run)
every task runs in this process and a process-wide window in memory does the same job.

Keys are hashed before they reach Redis: a personal identity number never leaves the
database in clear.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
from collections import defaultdict, deque

import redis
from celery import current_app
from django.conf import settings

REDIS_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local out = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then
    redis.call('ZADD', key, now, ARGV[2 + i])
    redis.call('PEXPIRE', key, window)
    out[i] = 0
  else
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    out[i] = math.max(1, tonumber(oldest[2]) + window - now)
  end
end
return out
"""


class LocalWindowLimiter:
    """The window in this process's memory (thread-safe)."""

    def __init__(self, *, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._sent: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def reserve(self, key: str, now: float | None = None) -> float:
        """0 and the slot is taken, or the seconds to wait before asking again."""
        now = time.monotonic() if now is None else now
        with self._lock:
            sent = self._sent[key]
            while sent and sent[0] <= now - self.window:
                sent.popleft()
            if len(sent) >= self.limit:
                return sent[0] + self.window - now
            sent.append(now)
            return 0.0

    def reserve_many(self, keys: list[str]) -> list[float]:
        now = time.monotonic()
        return [self.reserve(key, now) for key in keys]


class RedisWindowLimiter:
    """The window in Redis: one script call reserves a slot for a whole batch of keys."""

    def __init__(self, *, url: str, namespace: str, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.namespace = namespace
        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(REDIS_SCRIPT)
        self._ids = itertools.count()
        self._me = f"{os.uname().nodename}:{os.getpid()}:{id(self)}"

    def _key(self, key: str) -> str:
        return (
            f"flexbridge:ratelimit:{self.namespace}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
        )

    def reserve(self, key: str, now: float | None = None) -> float:
        return self.reserve_many([key])[0]

    def reserve_many(self, keys: list[str]) -> list[float]:
        if not keys:
            return []
        members = [f"{self._me}:{next(self._ids)}" for _key in keys]
        waits = self._script(
            keys=[self._key(key) for key in keys],
            args=[int(self.window * 1000), self.limit, *members],
        )
        return [int(wait) / 1000 for wait in waits]


_LOCAL: dict[tuple, LocalWindowLimiter] = {}
_LOCAL_LOCK = threading.Lock()


def window_limiter(*, namespace: str, limit: int, window: float):
    """The limiter for ``namespace``: in Redis when workers share a broker, else this
    process's (one per namespace and limit, shared by its threads and tasks)."""
    if settings.REDIS_URL and not current_app.conf.task_always_eager:
        return RedisWindowLimiter(
            url=settings.REDIS_URL, namespace=namespace, limit=limit, window=window
        )
    with _LOCAL_LOCK:
        key = (namespace, limit, window)
        if key not in _LOCAL:
            _LOCAL[key] = LocalWindowLimiter(limit=limit, window=window)
        return _LOCAL[key]
