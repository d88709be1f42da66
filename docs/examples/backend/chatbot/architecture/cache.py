"""A cache-aside layer on Redis with TTL jitter and stampede protection.

Values are validated with Pydantic on the way out, so a cached entry written by an
older release that no longer matches the schema is treated as a miss rather than
crashing the request. Keys carry a schema version (``chatbot:v1:...``): bump it when
a cached shape changes and the old entries simply age out. A cache that is down is a
cache that misses: Redis errors are logged and the loader runs, so an outage of the
cache costs latency, never availability. Give the client a short ``socket_timeout``
(0.1 s) so a hung Redis is noticed quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as redis
from pydantic import TypeAdapter, ValidationError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Delete the lock only if we still own it; a plain DEL could drop the next owner's lock.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


# [start:cache]
class RedisCache:
    """``get_or_load``: one loader runs per key at a time, across every pod."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        namespace: str = "chatbot:v1",
        jitter: float = 0.1,
        lock_ttl_ms: int = 10_000,
        wait_for_owner_s: float = 3.0,
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._jitter = jitter
        self._lock_ttl_ms = lock_ttl_ms
        self._wait_s = wait_for_owner_s
        self._release = client.register_script(_RELEASE_LUA)

    def key(self, *parts: str) -> str:
        return ":".join((self._namespace, *parts))

    async def get(self, key: str, adapter: TypeAdapter[T]) -> T | None:
        try:
            raw = await self._client.get(key)
        except RedisError:
            logger.warning("cache unavailable, treating as a miss", exc_info=True)
            return None
        if raw is None:
            return None
        try:
            return adapter.validate_json(raw)
        except ValidationError:
            logger.warning("stale cache entry ignored", extra={"key": key})
            return None

    async def set(self, key: str, value: T, adapter: TypeAdapter[T], *, ttl_s: int) -> None:
        # Jitter spreads expiries: entries written together must not all miss together.
        ttl = max(1, round(ttl_s * random.uniform(1 - self._jitter, 1 + self._jitter)))
        try:
            await self._client.set(key, adapter.dump_json(value), ex=ttl)
        except RedisError:
            logger.warning("cache unavailable, value not stored", exc_info=True)

    async def invalidate(self, *keys: str) -> None:
        if keys:
            await self._client.unlink(*keys)  # UNLINK frees memory off the main thread

    async def get_or_load(
        self, key: str, adapter: TypeAdapter[T], load: Callable[[], Awaitable[T]], *, ttl_s: int
    ) -> T:
        if (hit := await self.get(key, adapter)) is not None:
            return hit
        token = secrets.token_hex(8)
        lock = f"{key}:lock"
        try:
            owner = await self._client.set(lock, token, nx=True, px=self._lock_ttl_ms)
        except RedisError:
            return await load()  # no cache at all: just load
        if owner:
            try:
                value = await load()
                await self.set(key, value, adapter, ttl_s=ttl_s)
                return value
            finally:
                with contextlib.suppress(RedisError):  # the lock expires on its own
                    await self._release(keys=[lock], args=[token])
        # Someone else is loading: poll briefly for their result instead of piling on.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        while loop.time() < deadline:
            await asyncio.sleep(0.025)
            if (hit := await self.get(key, adapter)) is not None:
                return hit
        return await load()  # the owner died or is slow: degrade to an uncached load


# [end:cache]


# [start:keys]
def embedding_key(cache: RedisCache, *, model: str, dimensions: int, text: str) -> str:
    """Embeddings are pure functions of (model, dimensions, text): cache them for days."""
    digest = hashlib.sha256(f"{model}\0{dimensions}\0{text}".encode()).hexdigest()
    return cache.key("emb", model, str(dimensions), digest)


def history_key(cache: RedisCache, *, tenant_id: str, conversation_id: str) -> str:
    """The last N messages of a conversation; invalidated on every new message."""
    return cache.key("hist", tenant_id, conversation_id)


# [end:keys]
