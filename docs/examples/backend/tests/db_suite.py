"""Database integration: Alembic migrations on SQLite and PostgreSQL, the repository's
transactions, and pool options derived from the fleet.

``tests/examples/test_backend_db.py`` runs this suite with the examples' fixtures.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from conftest import BACKEND
from fastapi.testclient import TestClient
from sqlalchemy import Connection, inspect, select, text, update
from sqlalchemy.engine import make_url
from wire import parse_sse

from chatbot.app import create_app
from chatbot.architecture.pools import PoolBudgetError
from chatbot.db.conversations import ConversationRepository
from chatbot.db.models import Base, Conversation
from chatbot.db.pool import engine_kwargs
from chatbot.db.session import create_schema, make_engine, make_sessionmaker
from chatbot.settings import DatabasePool, Settings


def alembic_config(url: str, output: io.StringIO | None = None) -> Config:
    # output_buffer receives the SQL of offline (--sql) runs
    config = Config(str(BACKEND / "alembic.ini"), stdout=io.StringIO(), output_buffer=output)
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logging"] = False  # keep pytest's log capture
    return config


def drift(url: str) -> list[object]:
    """What autogenerate would add or drop to make the database match the models."""

    async def run() -> list[object]:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:

                def compare(sync: Connection) -> list[object]:
                    return list(compare_metadata(MigrationContext.configure(sync), Base.metadata))

                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


# [start:migration-test]
def test_migrations_build_the_models_schema_on_sqlite_and_go_back(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    assert drift(url) == []  # the migrations and the models describe the same schema
    command.downgrade(config, "base")
    assert tables(url) == {"alembic_version"}
    command.upgrade(config, "head")  # and forward again, as a rollback-and-redeploy would
    assert "messages" in tables(url)


# [end:migration-test]


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL server."""
    name = f"mig_{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url)

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(host=url.host, port=url.port, user=url.username)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_migrations_on_postgresql_build_the_index_concurrently(pg_database: str) -> None:
    config = alembic_config(pg_database)
    command.upgrade(config, "head")
    assert drift(pg_database) == []

    async def index_state() -> tuple[bool, str]:
        engine = make_engine(pg_database)
        try:
            async with engine.connect() as connection:
                row = (
                    await connection.execute(
                        text(
                            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                            " JOIN pg_class c ON c.oid = i.indexrelid"
                            " WHERE c.relname = 'ix_messages_conversation_id_id'"
                        )
                    )
                ).one()
                return bool(row[0]), str(row[1])
        finally:
            await engine.dispose()

    valid, definition = asyncio.run(index_state())
    assert valid
    assert definition.endswith("(conversation_id, id)")

    # The app runs on the migrated database, and the offline SQL shows the concurrent build.
    settings = Settings(database_url=pg_database, fake_token_delay_s=0)
    with TestClient(create_app(settings)) as client:
        events, _ = parse_sse(client.post("/v1/chat/stream", json={"message": "hi"}).text)
        assert events[-1].event == "done"
    sql = io.StringIO()
    command.upgrade(alembic_config(pg_database, sql), "0002:head", sql=True)
    assert "CREATE INDEX CONCURRENTLY ix_messages_conversation_id_id" in sql.getvalue()
    assert "COMMIT" in sql.getvalue()  # CONCURRENTLY runs outside a transaction


# --- repository and transactions ----------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_one_transaction_commits_or_rolls_back_as_a_whole(
    tmp_path: Path, anyio_backend: str
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'tx.db'}")
    await create_schema(engine)
    sessions = make_sessionmaker(engine)
    conversation_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(Conversation(id=conversation_id, title="t"))
        await ConversationRepository(session).add_message(conversation_id, "user", "kept")

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with sessions() as session, session.begin():
            repo = ConversationRepository(session)
            await repo.add_message(conversation_id, "user", "lost")
            await repo.add_message(conversation_id, "assistant", "lost too")
            raise Abort

    async with sessions() as session:
        history = await ConversationRepository(session).recent_history(conversation_id, 10)
    assert [m.content for m in history] == ["kept"]
    await engine.dispose()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_retention_finds_only_conversations_idle_past_the_cutoff(
    tmp_path: Path, anyio_backend: str
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    await create_schema(engine)
    sessions = make_sessionmaker(engine)
    old, active, fresh = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    long_ago = datetime.now(UTC) - timedelta(days=400)
    async with sessions() as session, session.begin():
        repo = ConversationRepository(session)
        for conversation_id in (old, active, fresh):
            session.add(Conversation(id=conversation_id, title=""))
            await repo.add_message(conversation_id, "user", "hi")
        await session.execute(
            update(Conversation)
            .where(Conversation.id.in_([old, active]))
            .values(created_at=long_ago)
        )
        await session.execute(text("UPDATE messages SET created_at = :t"), {"t": long_ago})
        await repo.add_message(active, "user", "still here")  # a recent message
    cutoff = datetime.now(UTC) - timedelta(days=365)
    async with sessions() as session, session.begin():
        repo = ConversationRepository(session)
        assert await repo.inactive_since(cutoff, limit=10) == [old]
        assert await repo.delete([old]) == 1
    async with sessions() as session:
        left = set(await session.scalars(select(Conversation.id)))
    assert left == {active, fresh}
    await engine.dispose()


# --- connection pool ----------------------------------------------------------------------


# [start:pool-test]
def test_pool_options_come_from_the_fleet() -> None:
    fleet = DatabasePool(server_max_connections=200, reserved=10, max_pods=20, surge_pods=5)
    options = engine_kwargs("postgresql+asyncpg://db/chat", fleet)
    # (200 - 10) // (25 processes) = 7 each: 6 kept open, 1 overflow for bursts.
    assert (options["pool_size"], options["max_overflow"]) == (6, 1)
    assert options["pool_timeout"] == 2.0
    assert options["connect_args"]["server_settings"]["application_name"] == "chatbot-api"
    assert "connect_args" not in engine_kwargs("postgresql+psycopg://db/chat", fleet)
    assert engine_kwargs("sqlite+aiosqlite:///x.db", fleet) == {"pool_pre_ping": True}


def test_a_fleet_that_cannot_fit_refuses_to_start(settings: Settings) -> None:
    too_big = DatabasePool(server_max_connections=100, reserved=10, max_pods=60, surge_pods=10)
    doomed = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/x", "db_pool": too_big}
    )
    with pytest.raises(PoolBudgetError, match="PgBouncer"), TestClient(create_app(doomed)):
        pass


# [end:pool-test]


def test_the_app_opens_no_more_than_its_pool_on_postgresql(pg_database: str) -> None:
    fleet = DatabasePool(server_max_connections=30, reserved=5, max_pods=4, surge_pods=1)
    settings = Settings(database_url=pg_database, fake_token_delay_s=0, db_pool=fleet)
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        assert (engine.pool.size(), engine.pool._max_overflow) == (4, 1)  # 25 // 5 = 5 each
        assert client.get("/readyz").json() == {"database": "ok"}


def test_production_start_up_leaves_the_schema_to_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}"
    settings = Settings(database_url=url, auto_create_schema=False, fake_token_delay_s=0)
    with TestClient(create_app(settings)):
        pass
    assert tables(url) == set()  # nothing created behind the migrations' back
    command.upgrade(alembic_config(url), "head")
    with TestClient(create_app(settings)) as client:
        events, _ = parse_sse(client.post("/v1/chat/stream", json={"message": "hi"}).text)
    assert events[-1].event == "done"
