"""Requests per client per minute: in Redis when configured, else in this process."""

from __future__ import annotations

import time
from collections import Counter
from typing import Protocol

import redis.asyncio as redis


class RateLimiter(Protocol):
    async def allow(self, key: str) -> bool:
        """Count one request for *key*; False once it is over its limit this minute."""
        ...


# [start:redis]
class RedisRateLimiter:
    """A fixed one-minute window per key, shared by every replica."""

    def __init__(self, client: redis.Redis, *, per_minute: int) -> None:
        self._redis = client
        self._limit = per_minute

    async def allow(self, key: str) -> bool:
        window = f"ratelimit:{key}:{int(time.time() // 60)}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(window)
            pipe.expire(window, 60)
            count, _ = await pipe.execute()
        return int(count) <= self._limit


# [end:redis]


class MemoryRateLimiter:
    """The same window kept in this process: right for one replica and for development."""

    def __init__(self, *, per_minute: int) -> None:
        self._limit = per_minute
        self._counts: Counter[str] = Counter()
        self._window = 0

    async def allow(self, key: str) -> bool:
        window = int(time.time() // 60)
        if window != self._window:
            self._counts.clear()
            self._window = window
        self._counts[key] += 1
        return self._counts[key] <= self._limit
