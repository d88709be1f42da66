"""The tenant's LLM-token budget: reserve before the model runs, refund the unused part after.

Requests per minute are limited by ``chatbot.deps.enforce_rate_limit``; this bucket limits
what a tenant's requests cost. It uses the atomic token bucket of
``chatbot.architecture.ratelimit`` and needs Redis; without Redis it reserves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from chatbot.architecture.ratelimit import Limit, RateLimiter, retry_after_header, settle_tokens
from chatbot.security.auth import CurrentUser, Principal
from chatbot.settings import Settings

HISTORY_ALLOWANCE = 2_000  # tokens of history a turn may add; settled against real usage


@dataclass(frozen=True, slots=True)
class Reservation:
    limiter: RateLimiter | None
    limit: Limit | None

    async def settle(self, actual_tokens: int) -> None:
        """Give back what the estimate over-reserved (a no-op without Redis)."""
        if self.limiter is not None and self.limit is not None:
            await settle_tokens(
                self.limiter, self.limit, estimated=int(self.limit.cost), actual=actual_tokens
            )


def tenant_of(user: Principal) -> str:
    """The tenant claim of the IdP's token; a user without one is their own tenant."""
    return str(user.claims.get("tenant", user.subject))


# [start:reserve]
async def reserve_tokens(request: Request, user: CurrentUser) -> Reservation:
    """Spend the turn's worst case up front: prompt + history allowance + max output.

    The estimate comes from ``Content-Length`` (about 3 bytes of JSON per token), so the
    body is not parsed twice. A refusal is a ``429`` before any stream starts.
    """
    limiter: RateLimiter | None = request.app.state.token_limiter
    if limiter is None:
        return Reservation(None, None)
    settings: Settings = request.app.state.settings
    prompt = int(request.headers.get("content-length") or 0) // 3
    estimate = prompt + HISTORY_ALLOWANCE + settings.max_output_tokens
    per_minute = settings.tenant_tokens_per_minute
    limit = Limit(
        key=f"rl:{{{tenant_of(user)}}}:tokens",  # {hash tag}: one Redis Cluster slot per tenant
        capacity=per_minute,
        refill_per_s=per_minute / 60,
        cost=estimate,
    )
    decision = await limiter.acquire([limit])
    if not decision.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "token budget exhausted",
            {"Retry-After": retry_after_header(decision)},
        )
    return Reservation(limiter, limit)


TokenBudget = Annotated[Reservation, Depends(reserve_tokens)]
# [end:reserve]
