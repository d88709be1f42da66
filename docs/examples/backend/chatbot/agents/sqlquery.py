"""A read-only SQL tool: the model writes a SELECT, three layers make sure that is all it does.

1. ``sqlglot`` parses the statement: one SELECT, allowed tables only, no unknown
   functions, no locking, no ``SELECT INTO``; every table is rewritten into a subquery
   filtered to the caller's tenant.
2. The connection cannot write: SQLite opened with ``mode=ro`` plus ``query_only``
   and an authorizer; PostgreSQL in a ``READ ONLY`` transaction with a statement
   timeout, as a role that holds only ``SELECT`` grants, under row-level security.
3. Results are capped in rows and characters before the model sees them.

Layer 1 alone is a parser guessing at another program's grammar; layer 2 alone lets the
model read every table the role can see. Together, a parser bug still cannot write and
a grant mistake still cannot leave the tenant.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol

import anyio
import sqlglot
from psycopg import AsyncConnection
from pydantic import BaseModel, Field
from sqlglot import exp

from chatbot.agents.tools import Tool, ToolContext, ToolError

Rows = tuple[list[str], list[tuple[Any, ...]]]


# [start:validate]
_WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Copy,
    exp.Into,  # SELECT ... INTO new_table creates a table in PostgreSQL
    exp.Lock,  # SELECT ... FOR UPDATE takes row locks
)
_QUERIES = (exp.Select, exp.Union, exp.Intersect, exp.Except)


def validate_select(
    sql: str,
    *,
    dialect: str,
    tables: frozenset[str],
    tenant_id: str,
    max_rows: int,
    functions: frozenset[str] = frozenset(),
) -> str:
    """The model's SQL as a tenant-scoped, row-capped SELECT, or :class:`ToolError`.

    ``functions`` allows named functions sqlglot does not know (it parses those as
    ``Anonymous``: ``pg_sleep``, ``pg_read_file``, ``dblink``, ``set_config``,
    ``load_extension`` all are); functions it knows (``count``, ``date_trunc``) pass.
    """
    try:
        statements = sqlglot.parse(sql, dialect=dialect)
    except sqlglot.errors.ParseError as exc:
        raise ToolError(f"SQL does not parse: {str(exc).splitlines()[0][:200]}") from None
    if len(statements) != 1 or statements[0] is None:
        raise ToolError("Send exactly one SELECT statement.")
    query = statements[0]
    if not isinstance(query, _QUERIES):
        raise ToolError("Only SELECT queries are allowed.")
    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    for node in query.walk():
        if isinstance(node, _WRITES):
            raise ToolError("Only read-only SELECT queries are allowed.")
        if isinstance(node, exp.Anonymous) and node.name.lower() not in functions:
            raise ToolError(f"Function {node.name}() is not allowed.")
        if isinstance(node, exp.Table) and node.name not in ctes and not _allowed(node, tables):
            allowed = ", ".join(sorted(tables))
            raise ToolError(f"Table {node.sql()!r} is not available. Tables: {allowed}.")

    def scoped(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name in tables and node.name not in ctes:
            only_tenant = exp.column("tenant_id").eq(exp.Literal.string(tenant_id))
            inner = exp.select("*").from_(exp.to_table(node.name)).where(only_tenant)
            return inner.subquery(node.alias_or_name)
        return node

    rewritten = query.transform(scoped)
    assert isinstance(rewritten, _QUERIES)  # transform keeps the root's type
    limited = exp.select("*").from_(rewritten.subquery("result"))
    return limited.limit(max_rows + 1).sql(dialect=dialect)  # +1: to know we truncated


def _allowed(table: exp.Table, tables: frozenset[str]) -> bool:
    """Unqualified names from the allowlist: ``pg_catalog.x`` or ``other_db.x`` never."""
    return not table.db and not table.catalog and table.name in tables


# [end:validate]


class ReadOnlyDatabase(Protocol):
    """Runs an already-validated SELECT on a connection that cannot write."""

    dialect: str

    async def fetch(self, sql: str, *, tenant_id: str, timeout_s: float) -> Rows: ...


# [start:sqlite]
class SQLiteReadOnly:
    """SQLite opened read-only, with an authorizer as a second allowlist.

    ``mode=ro`` makes the file handle read-only; ``query_only`` refuses writes even to
    the temp database; the authorizer denies any action that is not reading an allowed
    table or calling a function, which also blocks ``ATTACH`` and ``PRAGMA``
    (``load_extension`` is off in Python's ``sqlite3`` unless enabled explicitly).
    The progress handler aborts a query that runs past its deadline (a cartesian join
    over two large tables), which ``sqlite3`` has no timeout for.
    """

    dialect = "sqlite"

    def __init__(self, path: str, tables: frozenset[str]) -> None:
        self.path = path
        self.tables = tables

    async def fetch(self, sql: str, *, tenant_id: str, timeout_s: float) -> Rows:
        return await anyio.to_thread.run_sync(self._fetch, sql, timeout_s)

    def _fetch(self, sql: str, timeout_s: float) -> Rows:
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            connection.execute("PRAGMA query_only = ON")
            schema = connection.execute("SELECT name FROM sqlite_schema WHERE type != 'index'")
            connection.set_authorizer(self._authorizer({row[0] for row in schema}))
            deadline = time.monotonic() + timeout_s
            connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            cursor = connection.execute(sql)
            columns = [d[0] for d in cursor.description or ()]
            return columns, cursor.fetchall()
        except sqlite3.DatabaseError as exc:  # the authorizer's refusals included
            if "interrupted" in str(exc):
                raise ToolError(f"The query ran longer than {timeout_s:g} s.") from None
            raise ToolError(f"The database rejected the query: {exc}") from None
        finally:
            connection.close()

    def _authorizer(self, schema: set[str]) -> Callable[..., int]:
        """Reads of allowed tables, and of names that are no table (CTEs, subqueries)."""

        def authorize(action: int, name: str | None, *_: object) -> int:
            if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE):
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_READ and (name in self.tables or name not in schema):
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY

        return authorize


# [end:sqlite]


# [start:postgres]
class PostgresReadOnly:
    """PostgreSQL through psycopg 3: a read-only transaction per query, as a SELECT-only role.

    ``conninfo`` logs in as a role that owns nothing and was granted ``SELECT`` on the
    exposed tables only; the tables have row-level security keyed on the
    ``app.tenant_id`` setting, which is set per transaction (``is_local``), so a pooled
    connection never carries one tenant's setting into another's query.
    """

    dialect = "postgres"

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo

    async def fetch(self, sql: str, *, tenant_id: str, timeout_s: float) -> Rows:
        async with await AsyncConnection.connect(self.conninfo) as connection:
            await connection.set_read_only(True)
            async with connection.transaction(), connection.cursor() as cursor:
                await cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true),"
                    " set_config('app.tenant_id', %s, true)",
                    (f"{int(timeout_s * 1000)}ms", tenant_id),
                )
                await cursor.execute(sql.encode())
                columns = [d.name for d in cursor.description or ()]
                return columns, await cursor.fetchall()


# [end:postgres]


class QueryArgs(BaseModel):
    """Run one read-only SQL SELECT against the orders database and return the rows.
    Tables: orders(id, customer_id, status, total, created_at), customers(id, name, country).
    Results are limited to the current customer account automatically."""

    sql: str = Field(description="A single SELECT statement")


# [start:tool]
class DatabaseQueryTool(Tool[QueryArgs]):
    """The model writes SQL; the validator and the connection decide what runs."""

    name = "query_database"
    Args = QueryArgs
    timeout_s: ClassVar[float] = 10.0

    def __init__(
        self,
        database: SQLiteReadOnly | PostgresReadOnly,
        *,
        tables: Sequence[str],
        max_rows: int = 50,
        query_timeout_s: float = 3.0,
    ) -> None:
        self.database = database
        self.tables = frozenset(tables)
        self.max_rows = max_rows
        self.query_timeout_s = query_timeout_s

    async def run(self, args: QueryArgs, ctx: ToolContext) -> str:
        sql = validate_select(
            args.sql,
            dialect=self.database.dialect,
            tables=self.tables,
            tenant_id=ctx.tenant_id,
            max_rows=self.max_rows,
        )
        try:
            columns, rows = await self.database.fetch(
                sql, tenant_id=ctx.tenant_id, timeout_s=self.query_timeout_s
            )
        except ToolError:
            raise
        except Exception as exc:  # psycopg errors: report the class, not the server text
            raise ToolError(f"The database rejected the query ({type(exc).__name__}).") from None
        truncated = len(rows) > self.max_rows
        payload = {
            "columns": columns,
            "rows": [list(row) for row in rows[: self.max_rows]],
            "truncated": truncated,
        }
        return json.dumps(payload, default=str)


# [end:tool]
