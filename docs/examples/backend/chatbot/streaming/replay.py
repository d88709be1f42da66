"""A replay buffer per conversation, so a client that lost its stream can resume it.

The chat endpoint appends every event it sends; a reconnecting client asks for the events
after its ``Last-Event-ID`` and then follows the turn live until ``done`` or ``error``.
With Redis the buffer is a stream per conversation whose entry ids *are* the SSE ids
(``0-<n>``), so "everything after event 7" is ``XREAD ... 0-7`` on any pod. Without Redis
the buffer lives in this process: right for development and a single replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Protocol, cast

import redis.asyncio as redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
TERMINAL = frozenset({"done", "error"})


@dataclass(frozen=True, slots=True)
class BufferedEvent:
    """One event as it went out: ``data`` is the exact JSON text that was sent."""

    id: int
    event: str
    data: str


class ReplayBuffer(Protocol):
    async def start(self, key: str) -> None:
        """Forget the previous turn of *key*: ids restart at 1."""
        ...

    async def append(self, key: str, event: BufferedEvent) -> None: ...

    def read(self, key: str, after: int) -> AsyncGenerator[BufferedEvent]:
        """Events with ``id > after``, then live ones until a terminal event or silence."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def forget(self, key: str) -> None: ...


# [start:redis-replay]
class RedisReplayBuffer:
    """Shared by every pod: any replica can serve a resumed stream.

    Writes fail open: with Redis down, chat keeps streaming and only resumption is lost.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_s: int = 600,
        finished_ttl_s: int = 60,
        idle_timeout_s: float = 30.0,
        namespace: str = "chatbot:v1:replay",
    ) -> None:
        self._redis = client
        self._ttl_s = ttl_s
        self._finished_ttl_s = finished_ttl_s  # clients reconnect within seconds or never
        self._idle_ms = int(idle_timeout_s * 1000)
        self._namespace = namespace

    def _key(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    async def start(self, key: str) -> None:
        try:
            await self._redis.unlink(self._key(key))  # XADD ids must grow: start empty
        except RedisError:
            logger.warning("replay buffer unavailable", exc_info=True)

    async def append(self, key: str, event: BufferedEvent) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:  # one round trip
                pipe.xadd(self._key(key), {"e": event.event, "d": event.data}, id=f"0-{event.id}")
                done = event.event in TERMINAL
                pipe.expire(self._key(key), self._finished_ttl_s if done else self._ttl_s)
                await pipe.execute()
        except RedisError:
            logger.warning("replay event not buffered", extra={"event_id": event.id})

    async def exists(self, key: str) -> bool:
        return bool(await self._redis.exists(self._key(key)))

    async def forget(self, key: str) -> None:
        await self._redis.unlink(self._key(key))

    async def read(self, key: str, after: int) -> AsyncGenerator[BufferedEvent]:
        stream, last = self._key(key), f"0-{after}"
        while True:
            # BLOCK returns as soon as the writer appends; silence means the writer died.
            reply = cast(
                list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
                await self._redis.xread({stream: last}, count=100, block=self._idle_ms),
            )
            if not reply:
                return
            for entry_id, fields in reply[0][1]:
                last = entry_id.decode()
                event = BufferedEvent(
                    int(last.split("-")[1]), fields[b"e"].decode(), fields[b"d"].decode()
                )
                yield event
                if event.event in TERMINAL:
                    return


# [end:redis-replay]


@dataclass
class _Turn:
    events: list[BufferedEvent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    expires_at: float = 0.0


class MemoryReplayBuffer:
    """The same contract inside one process, with expiry on access."""

    def __init__(
        self, *, ttl_s: int = 600, finished_ttl_s: int = 60, idle_timeout_s: float = 30.0
    ) -> None:
        self._turns: dict[str, _Turn] = {}
        self._ttl_s = ttl_s
        self._finished_ttl_s = finished_ttl_s
        self._idle_s = idle_timeout_s

    def _live(self, key: str) -> _Turn | None:
        now = time.monotonic()
        for stale in [k for k, t in self._turns.items() if t.expires_at < now]:
            del self._turns[stale]
        return self._turns.get(key)

    async def start(self, key: str) -> None:
        self._turns[key] = _Turn(expires_at=time.monotonic() + self._ttl_s)

    async def append(self, key: str, event: BufferedEvent) -> None:
        turn = self._live(key) or self._turns.setdefault(key, _Turn())
        turn.events.append(event)
        ttl = self._finished_ttl_s if event.event in TERMINAL else self._ttl_s
        turn.expires_at = time.monotonic() + ttl
        turn.changed.set()
        turn.changed = asyncio.Event()  # readers waiting on the old one wake up once

    async def exists(self, key: str) -> bool:
        return self._live(key) is not None

    async def forget(self, key: str) -> None:
        self._turns.pop(key, None)

    async def read(self, key: str, after: int) -> AsyncGenerator[BufferedEvent]:
        while (turn := self._live(key)) is not None:
            waiter = turn.changed
            for event in [e for e in turn.events if e.id > after]:
                after = event.id
                yield event
                if event.event in TERMINAL:
                    return
            try:
                async with asyncio.timeout(self._idle_s):
                    await waiter.wait()
            except TimeoutError:
                return
