"""The async engine and the session factory the application shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from chatbot.db.models import Base


# [start:engine]
def make_engine(database_url: str, **options: Any) -> AsyncEngine:
    """``sqlite+aiosqlite://`` locally, ``postgresql+asyncpg://`` in production.

    Always name the driver: since SQLAlchemy 2.1 a bare ``postgresql://`` means psycopg 3.
    *options* are pool settings (``chatbot.db.pool.engine_kwargs``).
    """
    return create_async_engine(database_url, **({"pool_pre_ping": True} | options))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit without another query
    return async_sessionmaker(engine, expire_on_commit=False)


# [end:engine]


async def create_schema(engine: AsyncEngine) -> None:
    """Create missing tables; production databases are migrated instead (see sql/)."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot answer a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
