"""The read-only database tool: the parser's allowlist, and the connection behind it.

Every write the model could attempt is refused twice: by ``validate_select`` and, with
the parser bypassed, by the connection itself (SQLite ``mode=ro`` plus an authorizer;
PostgreSQL's read-only transaction, grants and row-level security).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from chatbot.agents.sqlquery import (
    DatabaseQueryTool,
    PostgresReadOnly,
    SQLiteReadOnly,
    validate_select,
)
from chatbot.agents.tools import ToolContext, ToolError

pytestmark = pytest.mark.anyio
TABLES = ["orders", "customers"]
SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT, country TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, customer_id INTEGER,
                     status TEXT, total NUMERIC, created_at TEXT);
CREATE TABLE api_keys (id INTEGER PRIMARY KEY, tenant_id TEXT, secret TEXT);
"""
ROWS = [
    "INSERT INTO customers VALUES (1, 'acme', 'Ada', 'NO'), (2, 'globex', 'Hank', 'US')",
    "INSERT INTO orders VALUES (10, 'acme', 1, 'paid', 120, '2026-01-05'),"
    " (11, 'acme', 1, 'refunded', 30, '2026-02-01'), (12, 'globex', 2, 'paid', 9000, '2026-02-03')",
    "INSERT INTO api_keys VALUES (1, 'acme', 'sk-live-secret')",
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def ctx(tenant: str = "acme") -> ToolContext:
    return ToolContext(tenant, "u1", "run1", "c1")


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    path = str(tmp_path / "shop.db")
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        for statement in ROWS:
            db.execute(statement)
        db.executemany(
            "INSERT INTO orders VALUES (?, 'acme', 1, 'paid', 1, '2026-03-01')",
            [(100 + n,) for n in range(80)],
        )
    return path


def sqlite_tool(path: str, **options: object) -> DatabaseQueryTool:
    return DatabaseQueryTool(SQLiteReadOnly(path, frozenset(TABLES)), tables=TABLES, **options)  # type: ignore[arg-type]


async def query(tool: DatabaseQueryTool, sql: str, tenant: str = "acme") -> dict[str, object]:
    return json.loads(await tool.run(tool.validate({"sql": sql}), ctx(tenant)))  # type: ignore[no-any-return]


# --- the parser layer -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM orders", "Only SELECT"),
        ("UPDATE orders SET total = 0", "Only SELECT"),
        ("SELECT 1; DROP TABLE orders", "exactly one"),
        ("SELECT * INTO stolen FROM orders", "read-only"),
        ("SELECT * FROM orders FOR UPDATE", "read-only"),
        ("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", "read-only"),
        ("SELECT * FROM api_keys", "Table 'api_keys' is not available"),
        ("SELECT * FROM pg_catalog.pg_user", "not available"),
        ("SELECT * FROM public.orders", "not available"),
        ("SELECT pg_sleep(60)", r"pg_sleep\(\) is not allowed"),
        ("SELECT pg_read_file('/etc/passwd')", "not allowed"),
        ("SELECT set_config('app.tenant_id', 'globex', false)", "not allowed"),
        ("COPY orders TO '/tmp/out.csv'", "Only SELECT"),
        ("SELEC * FROM orders", "does not parse"),
    ],
)
def test_the_parser_allows_only_scoped_selects(sql: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        validate_select(
            sql, dialect="postgres", tables=frozenset(TABLES), tenant_id="acme", max_rows=50
        )


def test_every_table_becomes_a_tenant_filtered_subquery() -> None:
    sql = validate_select(
        "SELECT c.name, sum(o.total) FROM orders o JOIN customers c ON c.id = o.customer_id"
        " GROUP BY c.name",
        dialect="postgres",
        tables=frozenset(TABLES),
        tenant_id="ac'me",
        max_rows=50,
    )
    assert "FROM (SELECT * FROM orders WHERE tenant_id = 'ac''me') AS o" in sql
    assert "JOIN (SELECT * FROM customers WHERE tenant_id = 'ac''me') AS c" in sql
    assert sql.endswith("LIMIT 51")


# --- SQLite -----------------------------------------------------------------------------


async def test_sqlite_query_sees_only_its_tenant(sqlite_path: str) -> None:
    tool = sqlite_tool(sqlite_path)
    result = await query(
        tool, "SELECT count(*) AS n, sum(total) AS revenue FROM orders WHERE id < 100"
    )
    assert result["rows"] == [[2, 150]]
    other = await query(tool, "SELECT count(*) FROM orders", tenant="globex")
    assert other["rows"] == [[1]]


async def test_sqlite_rows_are_capped(sqlite_path: str) -> None:
    result = await query(sqlite_tool(sqlite_path, max_rows=50), "SELECT id FROM orders")
    assert len(result["rows"]) == 50  # type: ignore[arg-type]
    assert result["truncated"] is True


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM orders",
        "INSERT INTO orders (id, tenant_id) VALUES (999, 'acme')",
        "CREATE TABLE x (a INT)",
        "ATTACH DATABASE '/tmp/elsewhere.db' AS elsewhere",
        "SELECT secret FROM api_keys",
        "PRAGMA writable_schema = ON",
    ],
)
async def test_sqlite_connection_refuses_what_the_parser_would(sqlite_path: str, sql: str) -> None:
    database = SQLiteReadOnly(sqlite_path, frozenset(TABLES))
    with pytest.raises(ToolError, match="rejected"):
        await database.fetch(sql, tenant_id="acme", timeout_s=1)
    with sqlite3.connect(sqlite_path) as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (83,)


async def test_sqlite_runaway_query_is_interrupted(sqlite_path: str) -> None:
    tool = sqlite_tool(sqlite_path, query_timeout_s=0.3)
    endless = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    )
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"ran longer than 0\.3 s"):
        await query(tool, endless)
    assert time.monotonic() - started < 3


# --- PostgreSQL -------------------------------------------------------------------------

PG_SETUP = """
CREATE TABLE customers (id int PRIMARY KEY, tenant_id text NOT NULL, name text, country text);
CREATE TABLE orders (id int PRIMARY KEY, tenant_id text NOT NULL, customer_id int,
                     status text, total numeric, created_at date);
CREATE TABLE api_keys (id int PRIMARY KEY, tenant_id text, secret text);
CREATE ROLE agent_reader LOGIN;
GRANT SELECT ON orders, customers TO agent_reader;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_only ON orders USING (tenant_id = current_setting('app.tenant_id', true));
CREATE POLICY tenant_only ON customers USING (tenant_id = current_setting('app.tenant_id', true));
"""


@pytest.fixture(scope="module")
def reader_url(postgres_url: str) -> Iterator[str]:
    """A database owned by the superuser, read by a SELECT-only role under RLS."""
    admin = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute("DROP DATABASE IF EXISTS agents_sql")
        db.execute("DROP ROLE IF EXISTS agent_reader")
        db.execute("CREATE DATABASE agents_sql")
    shop = admin.rsplit("/", 1)[0] + "/agents_sql"
    with psycopg.connect(shop, autocommit=True) as db:
        db.execute(PG_SETUP)
        for statement in ROWS:
            db.execute(statement)  # type: ignore[call-overload]
    yield shop.replace("postgres@", "agent_reader@")
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute("DROP DATABASE agents_sql WITH (FORCE)")
        db.execute("DROP ROLE agent_reader")


def pg_tool(url: str) -> DatabaseQueryTool:
    return DatabaseQueryTool(PostgresReadOnly(url), tables=TABLES, query_timeout_s=0.5)


async def test_postgres_query_through_the_tool(reader_url: str) -> None:
    result = await query(
        pg_tool(reader_url),
        "SELECT c.name, sum(o.total) AS total FROM orders o"
        " JOIN customers c ON c.id = o.customer_id GROUP BY c.name",
    )
    assert result["columns"] == ["name", "total"]
    assert result["rows"] == [["Ada", "150"]]  # Decimal, sent as text


async def test_postgres_row_level_security_holds_without_the_rewrite(reader_url: str) -> None:
    database = PostgresReadOnly(reader_url)
    _, rows = await database.fetch("SELECT count(*) FROM orders", tenant_id="globex", timeout_s=1)
    assert rows == [(1,)]
    _, rows = await database.fetch("SELECT count(*) FROM orders", tenant_id="nobody", timeout_s=1)
    assert rows == [(0,)]


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        (
            "INSERT INTO orders (id, tenant_id) VALUES (99, 'acme')",
            psycopg.errors.ReadOnlySqlTransaction,
        ),
        ("SELECT secret FROM api_keys", psycopg.errors.InsufficientPrivilege),
        ("SELECT pg_sleep(10)", psycopg.errors.QueryCanceled),
    ],
)
async def test_postgres_connection_refuses_what_the_parser_would(
    reader_url: str, sql: str, error: type[Exception]
) -> None:
    started = time.monotonic()
    with pytest.raises(error):
        await PostgresReadOnly(reader_url).fetch(sql, tenant_id="acme", timeout_s=0.3)
    assert time.monotonic() - started < 5
