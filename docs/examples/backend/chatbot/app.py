"""The application factory: ``uvicorn chatbot.app:create_app --factory``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import redis.asyncio as redis
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from chatbot.api import chat, completion, conversations, health, manage, resume, websocket
from chatbot.architecture import ratelimit as token_bucket
from chatbot.architecture.cache import RedisCache
from chatbot.architecture.events import ConversationDeleted, EventBus, TurnCompleted
from chatbot.architecture.orchestration import BackgroundTasks
from chatbot.architecture.streams import StreamProducer
from chatbot.architecture.versioning import ApiVersionMiddleware, VersionPolicy
from chatbot.architecture.websocket import chat_socket_router
from chatbot.db.pool import engine_kwargs
from chatbot.db.session import create_schema, make_engine, make_sessionmaker
from chatbot.middleware.errors import ErrorMiddleware, install_error_handlers
from chatbot.providers import build_provider
from chatbot.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from chatbot.security.auth import build_authenticator
from chatbot.security.wiring import install_security
from chatbot.settings import Settings, get_settings
from chatbot.streaming.replay import MemoryReplayBuffer, RedisReplayBuffer, ReplayBuffer
from chatbot.streaming.turns import TurnServices
from chatbot.tasks.celery_app import make_celery
from chatbot.tasks.queue import CeleryQueue, InProcessQueue, TaskQueue

logger = logging.getLogger(__name__)


# [start:create-app]
def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; everything with a connection is opened in ``lifespan``."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info("effective configuration: %s", effective_configuration(settings))
        engine = make_engine(
            settings.database_url, **engine_kwargs(settings.database_url, settings.db_pool)
        )
        if settings.auto_create_schema:
            await create_schema(engine)  # development; production runs `alembic upgrade`
        redis_client = None
        if settings.redis_url:
            # Blocking pool: at the limit, wait up to 2 s for a connection. The default pool
            # (100 connections) raises MaxConnectionsError at once, mid-turn, under load.
            pool = redis.BlockingConnectionPool.from_url(
                settings.redis_url, max_connections=settings.redis_max_connections, timeout=2
            )
            redis_client = redis.Redis.from_pool(pool)  # closing the client closes the pool
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
        app.state.turns = turn_services(settings, redis_client)
        app.state.token_limiter = token_bucket.RateLimiter(redis_client) if redis_client else None
        app.state.tickets = (
            websocket.RedisTicketStore(redis_client)
            if redis_client is not None
            else websocket.MemoryTicketStore()
        )
        try:
            yield  # the application serves requests here
        finally:
            # Titles and events still running get 10 s; uvicorn gave streams 30 s before.
            await app.state.turns.background.drain(timeout_s=10)
            app.state.turns.celery.close()
            await provider.aclose()
            if redis_client is not None:
                await redis_client.aclose()
            await engine.dispose()

    app = FastAPI(title="Chatbot", version="0.1.0", lifespan=lifespan)
    # Middleware added last runs first. CORS (from install_security) is outermost, so
    # every answer a browser gets, a 500 or a 410 included, carries the CORS headers;
    # inside it the error middleware, then the version check next to the routes.
    app.add_middleware(ApiVersionMiddleware, versions=version_policies(settings))
    app.add_middleware(ErrorMiddleware)
    install_security(app, settings.security)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(completion.router)
    app.include_router(manage.router)
    app.include_router(conversations.router)
    app.include_router(resume.router)
    app.include_router(websocket.router)
    app.include_router(
        chat_socket_router(
            authenticate=websocket.ticket_user,
            allowed_origins=settings.security.cors_origins,
            idle_s=settings.websocket_idle_s,
        )
    )
    if settings.telemetry.enabled:  # needs the observability extra (chapter 12)
        from chatbot.observability.telemetry import install_telemetry

        install_telemetry(app, settings)
    return app


# [end:create-app]


# [start:turn-services]
def turn_services(settings: Settings, redis_client: redis.Redis | None) -> TurnServices:
    """Replay buffer, event bus, background tasks and job queue, Redis-backed when set."""
    background = BackgroundTasks()
    events = EventBus()
    celery = make_celery(settings)
    queue: TaskQueue = CeleryQueue() if settings.celery_broker_url else InProcessQueue(background)
    replay: ReplayBuffer = MemoryReplayBuffer(finished_ttl_s=settings.stream_replay_ttl_s)
    cache = None
    if redis_client is not None:
        replay = RedisReplayBuffer(redis_client, finished_ttl_s=settings.stream_replay_ttl_s)
        cache = RedisCache(redis_client)
        producer = StreamProducer(redis_client, "chatbot:events", maxlen=1_000_000)

        async def forward(event: TurnCompleted) -> None:
            await producer.publish(event)  # metering and analytics consume the stream

        events.subscribe(TurnCompleted, forward)

    async def forget_replay(event: ConversationDeleted) -> None:
        await replay.forget(event.conversation_id)

    events.subscribe(ConversationDeleted, forget_replay)
    return TurnServices(replay, events, background, queue, celery, cache)


def effective_configuration(settings: Settings) -> dict[str, str]:
    """What this process will talk to, passwords removed: the first log line to read."""

    def where(url: str | None) -> str:
        return f"{urlsplit(url).hostname}:{urlsplit(url).port}" if url else "in-process"

    return {
        "database": make_url(settings.database_url).render_as_string(hide_password=True),
        "redis": where(settings.redis_url),
        "broker": where(settings.celery_broker_url),
        "provider": settings.llm_provider,
        "fallback": settings.llm_fallback_provider or "none",
        "model": settings.chat_model or "(provider default)",
    }


def version_policies(settings: Settings) -> list[VersionPolicy]:
    return [
        VersionPolicy(v.name, v.deprecated_at, v.sunset_at, v.successor)
        for v in settings.api_versions
    ]


# [end:turn-services]
