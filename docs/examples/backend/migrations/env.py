"""Alembic environment: async engine, the service's own settings, safe defaults for DDL."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import chatbot.app  # noqa: F401 - imports every module that declares tables or indexes
from chatbot.db.models import Base
from chatbot.settings import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    # disable_existing_loggers=False: running inside a test or the app keeps its loggers.
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


# [start:env]
def database_url() -> str:
    """``-x url=...`` or ``sqlalchemy.url`` (tests), else ``CHATBOT_DATABASE_URL``."""
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or Settings().database_url
    )


def do_run_migrations(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Waiting behind a long transaction for a lock would queue every request behind
        # the migration: fail after 5 s instead, and let the deploy job retry.
        connection.execute(text("SET lock_timeout = '5s'"))  # for the session, not SET LOCAL
        connection.commit()  # Alembic must own the transactions it opens below
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        transaction_per_migration=True,  # a failure keeps the revisions before it applied
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


# [end:env]


def run_migrations_offline() -> None:
    """``alembic upgrade head --sql``: the SQL a reviewer or a DBA applies by hand."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
