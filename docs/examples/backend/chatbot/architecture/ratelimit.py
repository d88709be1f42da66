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

import redis.asyncio as redis

# [start:lua]
TOKEN_BUCKET_LUA = """
-- KEYS: one hash per bucket.  ARGV[1]: now in ms ('' = server clock).
-- Then three ARGV per key: capacity, refill per second, cost (negative = refund).
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local level, wait = {}, 0
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[i * 3 - 1])
  local rate = tonumber(ARGV[i * 3])
  local cost = tonumber(ARGV[i * 3 + 1])
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1]) or capacity
  local elapsed = math.max(0, now - (tonumber(state[2]) or now))
  tokens = math.min(capacity, tokens + elapsed * rate / 1000)
  level[i] = tokens
  if cost > capacity then
    return {0, -1}                      -- can never fit: reject, don't ask to retry
  elseif cost > tokens then
    wait = math.max(wait, math.ceil((cost - tokens) * 1000 / rate))
  end
end
if wait > 0 then
  return {0, wait}                      -- spend nothing from any bucket
end
local result = {1, 0}
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[i * 3 - 1])
  local rate = tonumber(ARGV[i * 3])
  local tokens = math.min(capacity, level[i] - tonumber(ARGV[i * 3 + 1]))
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
  -- Expire once the bucket would be full again: an idle user costs no memory.
  redis.call('PEXPIRE', key, math.ceil((capacity - tokens) * 1000 / rate) + 1000)
  result[#result + 1] = math.floor(tokens)
end
return result
"""
# [end:lua]


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
