"""Pool sizing against a real PostgreSQL: the server's limits and SQLAlchemy's pool agree."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from chatbot.architecture.pools import budget_from_server, engine_options
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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
