"""The SQL migration: parsed by sqlglot as PostgreSQL, and equal to the ORM models."""

from __future__ import annotations

import sqlglot
from chatbot.db.models import Base
from conftest import BACKEND
from sqlglot import exp

MIGRATION = BACKEND / "sql" / "001_initial.sql"


def declared_tables() -> dict[str, dict[str, bool]]:
    """{table: {column: nullable}} as the migration declares them."""
    tables: dict[str, dict[str, bool]] = {}
    for statement in sqlglot.parse(MIGRATION.read_text(), read="postgres"):
        if not isinstance(statement, exp.Create) or statement.kind != "TABLE":
            continue
        schema = statement.this
        assert isinstance(schema, exp.Schema)
        columns: dict[str, bool] = {}
        for column in schema.expressions:
            if not isinstance(column, exp.ColumnDef):
                continue
            kinds = {type(c.kind) for c in column.constraints}
            columns[column.name] = not kinds & {
                exp.NotNullColumnConstraint,
                exp.PrimaryKeyColumnConstraint,
            }
        tables[schema.this.name] = columns
    return tables


def test_migration_parses_as_postgresql() -> None:
    statements = sqlglot.parse(MIGRATION.read_text(), read="postgres", error_level="raise")
    creates = [s for s in statements if isinstance(s, exp.Create)]
    assert [c.kind for c in creates] == ["TABLE", "TABLE", "INDEX"]


def test_migration_matches_the_models() -> None:
    declared = declared_tables()
    models = {
        table.name: {column.name: bool(column.nullable) for column in table.columns}
        for table in Base.metadata.sorted_tables
        if table.name in declared  # later chapters add tables in migrations of their own
    }
    assert declared == models
    assert set(declared) == {"conversations", "messages"}
