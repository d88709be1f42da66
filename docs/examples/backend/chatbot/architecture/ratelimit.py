"""An atomic, multi-bucket token-bucket rate limiter in Redis.

One Lua script checks every bucket a request touches (the user's request rate and the
tenant's LLM-token budget, say) and spends from all of them or from none. Running it
as a script makes read-refill-spend atomic without WATCH/MULTI retries, and one round
trip costs about as much as a GET. Time comes from the Redis server's clock, so pods
whose clocks drift apart still agree on how full a bucket is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as redis

# The script lives in its own file so editors, linters and the book see it as Lua.
TOKEN_BUCKET_LUA = (Path(__file__).parent / "token_bucket.lua").read_text(encoding="utf-8")


# [start:limiter]
@dataclass(frozen=True, slots=True)
class Limit:
    """One bucket: holds ``capacity`` units, refills ``refill_per_s`` units a second."""

    key: str
    capacity: float
    refill_per_s: float
    cost: float = 1


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_s: float | None  # None: the request can never fit (cost > capacity)
    remaining: tuple[int, ...] = ()


class RateLimiter:
    """Spend from several buckets atomically: all of them, or none."""

    def __init__(self, client: redis.Redis) -> None:
        self._script = client.register_script(TOKEN_BUCKET_LUA)

    async def acquire(self, limits: Sequence[Limit], *, now_ms: int | None = None) -> Decision:
        """Try to spend each limit's ``cost``; ``now_ms`` only for deterministic tests."""
        args: list[float | str] = ["" if now_ms is None else str(now_ms)]
        for limit in limits:
            args += [limit.capacity, limit.refill_per_s, limit.cost]
        reply = await self._script(keys=[limit.key for limit in limits], args=args)
        allowed, wait_ms, *remaining = (int(x) for x in reply)
        if allowed:
            return Decision(True, 0.0, tuple(remaining))
        return Decision(False, None if wait_ms < 0 else wait_ms / 1000)


# [end:limiter]


# [start:chat-limits]
def chat_limits(
    *,
    tenant_id: str,
    user_id: str,
    estimated_tokens: int,
    requests_per_minute: int,
    tenant_tokens_per_minute: int,
) -> list[Limit]:
    """The two buckets a chat turn spends from.

    ``{tenant_id}`` is a Redis Cluster hash tag: both keys land in the same slot,
    which a multi-key script requires.
    """
    return [
        Limit(
            key=f"rl:{{{tenant_id}}}:user:{user_id}:req",
            capacity=requests_per_minute,
            refill_per_s=requests_per_minute / 60,
        ),
        Limit(
            key=f"rl:{{{tenant_id}}}:tokens",
            capacity=tenant_tokens_per_minute,
            refill_per_s=tenant_tokens_per_minute / 60,
            cost=estimated_tokens,
        ),
    ]


async def settle_tokens(
    limiter: RateLimiter, token_limit: Limit, *, estimated: int, actual: int
) -> None:
    """After the reply, refund what the estimate over-reserved.

    The estimate is input tokens plus ``max_output_tokens``, an upper bound, so usage
    never exceeds it and settling is always a refund that cannot be refused.
    """
    refund = Limit(
        token_limit.key,
        token_limit.capacity,
        token_limit.refill_per_s,
        cost=min(0, actual - estimated),
    )
    await limiter.acquire([refund])


# [end:chat-limits]


def retry_after_header(decision: Decision) -> str:
    """Whole seconds for the ``Retry-After`` header, rounded up so clients never retry early."""
    return str(math.ceil(decision.retry_after_s or 0))
