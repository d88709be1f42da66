"""The backend against real PostgreSQL and Redis servers, started by the fixtures.

Each fixture skips, saying why, when Debian's server package is not installed.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import redis.asyncio as redis
from chatbot.app import create_app
from chatbot.ratelimit import RedisRateLimiter
from chatbot.settings import Settings
from conftest import BACKEND
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from wire import parse_sse

MIGRATION = BACKEND / "sql" / "001_initial.sql"
COLUMNS = """
    SELECT table_name, column_name, data_type, is_nullable, character_maximum_length
    FROM information_schema.columns WHERE table_schema = 'public'
    ORDER BY table_name, column_name
"""


async def _fresh_database(server_url: str, name: str) -> str:
    url = make_url(server_url)
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _columns(database_url: str) -> list[tuple[object, ...]]:
    url = make_url(database_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        return [tuple(row) for row in await connection.fetch(COLUMNS)]
    finally:
        await connection.close()


def _chat(client: TestClient, message: str, conversation_id: str | None = None) -> str:
    body = {"message": message} | ({"conversation_id": conversation_id} if conversation_id else {})
    events, _ = parse_sse(client.post("/v1/chat/stream", json=body).text)
    assert events[-1].event == "done", events
    return str(events[0].json()["conversation_id"])


def test_postgres_models_and_migration_agree_and_serve_a_chat(postgres_url: str) -> None:
    from_models = asyncio.run(_fresh_database(postgres_url, "from_models"))
    from_sql = asyncio.run(_fresh_database(postgres_url, "from_sql"))

    async def migrate() -> None:
        url = make_url(from_sql)
        connection = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, database=url.database
        )
        try:
            await connection.execute(MIGRATION.read_text())
        finally:
            await connection.close()

    asyncio.run(migrate())
    # The app creates its schema on start-up (from_models) or finds it migrated (from_sql).
    for database_url in (from_models, from_sql):
        settings = Settings(database_url=database_url, fake_token_delay_s=0)
        with TestClient(create_app(settings)) as client:
            assert client.get("/readyz").json() == {"database": "ok"}
            conversation = _chat(client, "hello postgres")
            _chat(client, "again", conversation)
            stored = client.get(f"/v1/conversations/{conversation}").json()
            assert [m["role"] for m in stored["messages"]] == ["user", "assistant"] * 2
            uuid.UUID(conversation)
    assert asyncio.run(_columns(from_models)) == asyncio.run(_columns(from_sql))


def test_redis_rate_limiter_counts_across_instances(redis_url: str) -> None:
    async def scenario() -> list[bool]:
        client = redis.from_url(redis_url)
        try:
            await client.flushdb()
            first = RedisRateLimiter(client, per_minute=2)
            second = RedisRateLimiter(client, per_minute=2)  # another replica, same Redis
            results = [await first.allow("10.0.0.1"), await second.allow("10.0.0.1")]
            results += [await first.allow("10.0.0.1"), await second.allow("10.0.0.2")]
            ttl = max([await client.ttl(k) for k in await client.keys("ratelimit:10.0.0.1:*")])
            assert 0 < ttl <= 60
            return results
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == [True, True, False, True]


def test_app_with_redis_reports_it_ready_and_limits(redis_url: str, settings: Settings) -> None:
    asyncio.run(_flush(redis_url))
    configured = settings.model_copy(update={"redis_url": redis_url, "rate_limit_per_minute": 1})
    with TestClient(create_app(configured)) as client:
        assert client.get("/readyz").json() == {"database": "ok", "redis": "ok"}
        _chat(client, "one")
        assert client.post("/v1/chat/stream", json={"message": "two"}).status_code == 429


async def _flush(redis_url: str) -> None:
    client = redis.from_url(redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def test_readyz_fails_when_redis_is_down(settings: Settings) -> None:
    nothing_listens = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(nothing_listens)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "unavailable"}
