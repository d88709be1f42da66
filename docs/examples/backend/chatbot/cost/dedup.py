"""Deduplication: pay for one model call when many identical requests arrive together.

Two cases cost real money. During an incident, hundreds of users ask the same question
within seconds, all missing the cache because the first answer has not finished yet
(:class:`SingleFlight`). And a user double-clicks Send, or a mobile client retries a
request whose response it never saw (:class:`RecentSubmissions`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
Clock = Callable[[], float]


# [start:single-flight]
class SingleFlight(Generic[T]):
    """Concurrent calls with the same key share the first caller's result.

    In-process only: each pod makes at most one call per key at a time, so a fleet of
    N pods makes at most N. Put the result in the shared cache and that is enough; a
    Redis lock to get from N to one costs a round trip on every miss.
    """

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[T]] = {}
        self.shared = 0  # calls answered by someone else's flight, for the metrics

    async def do(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if (waiting := self._inflight.get(key)) is not None:
            self.shared += 1
            return await asyncio.shield(waiting)  # a cancelled follower leaves the leader be
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await call()
        except BaseException as exc:
            future.set_exception(exc)  # followers see the leader's failure, not a hang
            future.exception()  # mark it retrieved: no "never retrieved" warning
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]  # the next burst starts a new flight (or hits the cache)


# [end:single-flight]


# [start:recent]
@dataclass
class RecentSubmissions:
    """The same message to the same conversation within ``window_s`` is one turn.

    Returns the turn id already started for it, so the client attaches to that stream
    (``GET /v1/conversations/{id}/stream``) instead of paying for a second answer.
    """

    window_s: float = 10.0
    clock: Clock = time.monotonic
    _seen: dict[str, tuple[float, str]] = field(default_factory=dict)

    def claim(self, *, user: str, conversation: str, message: str, turn_id: str) -> str:
        """``turn_id`` if this submission is new, else the id of the earlier turn."""
        now = self.clock()
        self._seen = {k: v for k, v in self._seen.items() if v[0] > now}  # drop expired
        key = hashlib.sha256(f"{user}\x1f{conversation}\x1f{message.strip()}".encode()).hexdigest()
        if (earlier := self._seen.get(key)) is not None:
            return earlier[1]
        self._seen[key] = (now + self.window_s, turn_id)
        return turn_id


# [end:recent]
