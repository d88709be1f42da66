"""Request dependencies as ``Annotated`` aliases, so endpoints declare what they use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatbot.providers import LLMProvider
from chatbot.ratelimit import RateLimiter
from chatbot.security.auth import CurrentUser
from chatbot.settings import Settings


# [start:deps]
def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_provider(request: Request) -> LLMProvider:
    provider: LLMProvider = request.app.state.provider
    return provider


def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


async def get_session(
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)],
) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


async def enforce_rate_limit(request: Request, user: CurrentUser) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    # Per principal, not per IP: behind the gateway every request shares a few source
    # addresses, and one user with many API keys is still one user.
    client = request.client.host if request.client else "unknown"
    key = f"ip:{client}" if user.via == "anonymous" else f"user:{user.subject}"
    if not await limiter.allow(key):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "rate limit exceeded", {"Retry-After": "60"}
        )


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ProviderDep = Annotated[LLMProvider, Depends(get_provider)]
# scope="function": closed when the endpoint function returns, before a streamed body is
# sent. With the default ("request") a session that ran one query would hold its pooled
# connection for the whole 10 to 30 s stream.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SessionFactoryDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
RateLimited = Depends(enforce_rate_limit)
# [end:deps]
