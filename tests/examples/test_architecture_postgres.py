"""Pool sizing against a real PostgreSQL: the server's limits and SQLAlchemy's pool agree."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import asyncpg
import pytest
import sqlglot
from chatbot.architecture import pools as pool_module
from chatbot.architecture.pools import budget_from_server, engine_options
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlglot import exp

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine sized by the arithmetic from what the server reports."""
    probe = create_async_engine(postgres_url)
    async with probe.connect() as connection:
        budget = await budget_from_server(
            connection, max_pods=8, surge_pods=2, workers_per_pod=2, operator_reserve=5
        )
    await probe.dispose()
    options = engine_options(budget, application_name="chat-api-test", statement_timeout_ms=300)
    built = create_async_engine(postgres_url, **options)
    yield built
    await built.dispose()


async def test_budget_reads_the_server_limits(postgres_url: str) -> None:
    probe = create_async_engine(postgres_url)
    async with probe.connect() as connection:
        budget = await budget_from_server(connection, max_pods=10, surge_pods=3, workers_per_pod=2)
        reported = int((await connection.execute(text("SHOW max_connections"))).scalar_one())
    await probe.dispose()
    assert budget.server_max_connections == reported == 100  # initdb's default
    assert budget.reserved == 3 + 5  # superuser_reserved_connections + operators
    assert budget.processes == 26
    assert budget.per_process() == (3, 0)  # 92 // 26 = 3 connections per process


async def test_the_pool_never_opens_more_than_its_share(engine: AsyncEngine) -> None:
    pool_size, max_overflow = engine.pool.size(), engine.pool._max_overflow  # type: ignore[attr-defined]
    share = pool_size + max_overflow
    assert (pool_size, max_overflow) == (3, 1)  # 92 connections // 20 processes = 4 each
    held = [await engine.connect() for _ in range(share)]
    try:
        started = time.monotonic()
        with pytest.raises(PoolTimeout):
            await engine.connect()  # fails after pool_timeout instead of queueing forever
        assert 1.5 < time.monotonic() - started < 5
        names = await held[0].execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'chat-api-test'")
        )
        assert names.scalar_one() == share  # every pooled connection is labelled
    finally:
        await asyncio.gather(*(c.close() for c in held))


async def test_statement_timeout_cuts_off_runaway_queries(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(DBAPIError, match="statement timeout"):
            await connection.execute(text("SELECT pg_sleep(2)"))


# --- partitioned messages ----------------------------------------------------------------

PARTITIONING = Path(pool_module.__file__).with_name("partitioning.sql")


def test_partitioning_ddl_parses_as_postgresql() -> None:
    statements = sqlglot.parse(PARTITIONING.read_text(), read="postgres", error_level="raise")
    assert sum(isinstance(s, exp.Create) for s in statements) == 5


@pytest.fixture
async def partitioned(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A fresh database with the partitioned schema applied."""
    dsn = postgres_url.replace("postgresql+asyncpg", "postgresql")
    admin = await asyncpg.connect(dsn)
    await admin.execute("DROP DATABASE IF EXISTS partitioned")
    await admin.execute("CREATE DATABASE partitioned")
    connection = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/partitioned")
    await connection.execute(PARTITIONING.read_text())  # simple protocol: many statements
    yield connection
    await connection.close()
    await admin.execute("DROP DATABASE partitioned")
    await admin.close()


async def add_message(db: asyncpg.Connection, conversation: uuid.UUID, at: str) -> str:
    row = await db.fetchrow(
        """INSERT INTO messages (tenant_id, conversation_id, role, content, created_at)
           VALUES ($1, $2, 'user', 'hi', $3) RETURNING tableoid::regclass::text""",
        TENANT,
        conversation,
        datetime.fromisoformat(at),
    )
    return str(row[0])


TENANT = uuid.uuid4()


async def test_rows_land_in_their_month_and_queries_prune(partitioned: asyncpg.Connection) -> None:
    db = partitioned
    for month in ("2026-11-01", "2026-12-01"):
        await db.execute("SELECT create_month_partition($1::date)", date.fromisoformat(month))
    conversation = uuid.uuid4()
    await db.execute(
        "INSERT INTO conversations (id, tenant_id, user_id) VALUES ($1, $2, $3)",
        conversation,
        TENANT,
        uuid.uuid4(),
    )
    assert await add_message(db, conversation, "2026-11-30 23:59:59+00:00") == "messages_2026_11"
    assert await add_message(db, conversation, "2026-12-01 00:00:00+00:00") == "messages_2026_12"

    plan = "\n".join(
        r[0]
        for r in await db.fetch(
            """EXPLAIN SELECT * FROM messages
               WHERE conversation_id = $1 AND created_at >= '2026-12-01'""",
            conversation,
        )
    )
    assert "messages_2026_12" in plan
    assert "messages_2026_11" not in plan  # the planner skipped November entirely

    with pytest.raises(asyncpg.CheckViolationError, match="no partition"):
        await add_message(db, conversation, "2027-01-15 10:00:00+00:00")  # month not created


async def test_retention_drops_a_month_and_erasure_cascades(
    partitioned: asyncpg.Connection,
) -> None:
    db = partitioned
    for month in ("2026-10-01", "2026-11-01"):
        await db.execute("SELECT create_month_partition($1::date)", date.fromisoformat(month))
    keep, erase = uuid.uuid4(), uuid.uuid4()
    for conversation in (keep, erase):
        await db.execute(
            "INSERT INTO conversations (id, tenant_id, user_id) VALUES ($1, $2, $3)",
            conversation,
            TENANT,
            uuid.uuid4(),
        )
        await add_message(db, conversation, "2026-10-10 12:00:00+00:00")
        await add_message(db, conversation, "2026-11-10 12:00:00+00:00")

    await db.execute("DELETE FROM conversations WHERE id = $1", erase)  # GDPR erasure
    assert await db.fetchval("SELECT count(*) FROM messages WHERE conversation_id = $1", erase) == 0

    # Retention: detaching without blocking writers, then dropping, is instant at any size.
    await db.execute("ALTER TABLE messages DETACH PARTITION messages_2026_10 CONCURRENTLY")
    await db.execute("DROP TABLE messages_2026_10")
    assert await db.fetchval("SELECT count(*) FROM messages") == 1
