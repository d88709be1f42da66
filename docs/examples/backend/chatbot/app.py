"""The application factory: ``uvicorn chatbot.app:create_app --factory``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
from fastapi import FastAPI

from chatbot.api import chat, conversations, health
from chatbot.db.session import create_schema, make_engine, make_sessionmaker
from chatbot.providers import build_provider
from chatbot.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from chatbot.security.auth import build_authenticator
from chatbot.security.wiring import install_security
from chatbot.settings import Settings, get_settings


# [start:create-app]
def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; everything with a connection is opened in ``lifespan``."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        await create_schema(engine)
        redis_client = redis.from_url(settings.redis_url) if settings.redis_url else None
        limiter: RateLimiter = (
            RedisRateLimiter(redis_client, per_minute=settings.rate_limit_per_minute)
            if redis_client is not None
            else MemoryRateLimiter(per_minute=settings.rate_limit_per_minute)
        )
        provider = build_provider(settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        app.state.redis = redis_client
        app.state.rate_limiter = limiter
        app.state.provider = provider
        app.state.authenticator = build_authenticator(settings.security, host=settings.host)
        try:
            yield  # the application serves requests here
        finally:
            await provider.aclose()
            if redis_client is not None:
                await redis_client.aclose()
            await engine.dispose()

    app = FastAPI(title="Chatbot", version="0.1.0", lifespan=lifespan)
    install_security(app, settings.security)
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(conversations.router)
    return app


# [end:create-app]
