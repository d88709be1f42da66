"""pgvector: chunks, vectors and a full-text index in one PostgreSQL table.

Tested against PostgreSQL 18 with pgvector 0.8 through psycopg 3.3 and pgvector-python
0.5. One table serves dense search (HNSW), keyword search (a generated ``tsvector`` with a
GIN index) and metadata filters (``jsonb`` with a ``jsonb_path_ops`` GIN index), so
hybrid retrieval is two queries against the same rows and deletes are transactional.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pgvector import Vector
from pgvector.psycopg import register_vector_async
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from chatbot.rag.models import Chunk, EmbeddedChunk, ScoredChunk
from chatbot.rag.vectorstore import Filter


# [start:schema]
def schema_sql(dimension: int, *, table: str = "rag_chunks") -> list[str]:
    """DDL for the chunk table and its indexes, one statement per item.

    ``vector(n)`` can be indexed up to 2,000 dimensions; above that use ``halfvec(n)``
    (up to 4,000), which also halves the index's memory at no measurable recall cost.
    """
    if not 1 <= dimension <= 2000 or not table.isidentifier():
        msg = "dimension must be 1..2000 (use halfvec above) and table a plain identifier"
        raise ValueError(msg)
    return [
        "CREATE EXTENSION IF NOT EXISTS vector",
        f"""CREATE TABLE IF NOT EXISTS {table} (
            chunk_id text PRIMARY KEY,
            tenant_id text NOT NULL,
            doc_id text NOT NULL,
            ordinal integer NOT NULL,
            content text NOT NULL,
            start_offset integer NOT NULL,
            end_offset integer NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            embedding_model text NOT NULL,
            embedding vector({dimension}) NOT NULL,
            content_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
            updated_at timestamptz NOT NULL DEFAULT now()
        )""",
        f"""CREATE INDEX IF NOT EXISTS {table}_embedding_hnsw ON {table}
            USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)""",
        f"CREATE INDEX IF NOT EXISTS {table}_tenant_doc ON {table} (tenant_id, doc_id)",
        f"CREATE INDEX IF NOT EXISTS {table}_tsv ON {table} USING gin (content_tsv)",
        f"""CREATE INDEX IF NOT EXISTS {table}_metadata ON {table}
            USING gin (metadata jsonb_path_ops)""",
    ]


# [end:schema]


# [start:queries]
UPSERT_SQL = """
INSERT INTO rag_chunks (chunk_id, tenant_id, doc_id, ordinal, content, start_offset,
                        end_offset, metadata, embedding_model, embedding)
VALUES (%(chunk_id)s, %(tenant_id)s, %(doc_id)s, %(ordinal)s, %(content)s, %(start)s,
        %(end)s, %(metadata)s, %(model)s, %(embedding)s)
ON CONFLICT (chunk_id) DO UPDATE SET
    content = EXCLUDED.content, metadata = EXCLUDED.metadata,
    embedding_model = EXCLUDED.embedding_model, embedding = EXCLUDED.embedding,
    updated_at = now()
"""

# Filtered HNSW search. iterative_scan makes the index keep walking the graph until
# enough rows pass the WHERE clause; without it a selective filter applied to the
# ef_search candidates returns fewer than top_k rows, or none. relaxed_order may
# return rows slightly out of order, so the outer query sorts the materialised result.
DENSE_SQL = """
WITH nearest AS MATERIALIZED (
    SELECT chunk_id, doc_id, ordinal, content, start_offset, end_offset, metadata,
           embedding <=> %(query)s AS distance
    FROM rag_chunks
    WHERE tenant_id = %(tenant_id)s AND metadata @> %(contains)s
      AND (%(any_key)s::text IS NULL OR metadata ->> %(any_key)s = ANY(%(any_values)s))
    ORDER BY embedding <=> %(query)s
    LIMIT %(top_k)s
)
SELECT * FROM nearest ORDER BY distance
"""

KEYWORD_SQL = """
SELECT chunk_id, doc_id, ordinal, content, start_offset, end_offset, metadata,
       ts_rank_cd(content_tsv, query) AS rank
FROM rag_chunks, websearch_to_tsquery('english', %(text)s) AS query
WHERE tenant_id = %(tenant_id)s AND content_tsv @@ query AND metadata @> %(contains)s
ORDER BY rank DESC
LIMIT %(top_k)s
"""

DELETE_SQL = "DELETE FROM rag_chunks WHERE tenant_id = %(tenant_id)s AND doc_id = %(doc_id)s"

TUNE_SQL = """
SELECT set_config('hnsw.ef_search', %(ef_search)s, true),
       set_config('hnsw.iterative_scan', 'relaxed_order', true)
"""
# [end:queries]


def split_filter(filter: Filter | None) -> tuple[dict[str, Any], str | None, list[str]]:
    """Equality keys become one jsonb containment; at most one ``$in`` becomes ``= ANY``."""
    contains: dict[str, Any] = {}
    any_key: str | None = None
    any_values: list[str] = []
    for key, value in (filter or {}).items():
        if isinstance(value, dict):
            if any_key is not None or set(value) != {"$in"}:
                msg = "pgvector store supports one {'$in': [...]} per query"
                raise ValueError(msg)
            any_key, any_values = key, [str(v) for v in value["$in"]]
        else:
            contains[key] = value
    return contains, any_key, any_values


# [start:store]
class PgVectorStore:
    """:class:`~chatbot.rag.vectorstore.VectorStore` on a psycopg async pool."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]], *, ef_search: int = 100):
        self._pool = pool
        self._ef_search = ef_search

    @staticmethod
    async def configure(conn: AsyncConnection[Any]) -> None:
        """Pool ``configure=`` hook: teach each new connection the ``vector`` type."""
        await register_vector_async(conn)

    async def create_schema(self, dimension: int) -> None:
        async with self._pool.connection() as conn:
            for statement in schema_sql(dimension):
                await conn.execute(statement)

    async def upsert(self, tenant_id: str, items: Sequence[EmbeddedChunk]) -> int:
        rows = [
            {
                "chunk_id": item.chunk.chunk_id,
                "tenant_id": tenant_id,
                "doc_id": item.chunk.doc_id,
                "ordinal": item.chunk.ordinal,
                "content": item.chunk.text,
                "start": item.chunk.start,
                "end": item.chunk.end,
                "metadata": Jsonb(item.chunk.metadata),
                "model": item.embedding_model,
                "embedding": Vector(item.vector),
            }
            for item in items
        ]
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(UPSERT_SQL, rows)
        return len(rows)

    async def query(
        self,
        tenant_id: str,
        vector: Sequence[float],
        *,
        top_k: int = 10,
        filter: Filter | None = None,
    ) -> list[ScoredChunk]:
        contains, any_key, any_values = split_filter(filter)
        params = {
            "query": Vector(list(vector)),
            "tenant_id": tenant_id,
            "contains": Jsonb(contains),
            "any_key": any_key,
            "any_values": any_values,
            "top_k": top_k,
        }
        async with self._pool.connection() as conn, conn.transaction():
            # set_config(..., true) is SET LOCAL: it ends with this transaction, so a
            # pooled connection never carries one query's tuning into the next.
            await conn.execute(TUNE_SQL, {"ef_search": str(max(self._ef_search, top_k))})
            cur = await conn.cursor(row_factory=dict_row).execute(DENSE_SQL, params)
            rows = await cur.fetchall()
        return [ScoredChunk(_chunk(tenant_id, r), 1.0 - float(r["distance"])) for r in rows]

    async def keyword_query(
        self, tenant_id: str, text: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]:
        """Full-text search over the same rows, for hybrid retrieval."""
        contains, any_key, _ = split_filter(filter)
        if any_key is not None:
            msg = "keyword_query supports equality filters only"
            raise ValueError(msg)
        params = {"text": text, "tenant_id": tenant_id, "contains": Jsonb(contains)}
        async with self._pool.connection() as conn:
            cur = await conn.cursor(row_factory=dict_row).execute(
                KEYWORD_SQL, {**params, "top_k": top_k}
            )
            rows = await cur.fetchall()
        return [ScoredChunk(_chunk(tenant_id, r), float(r["rank"]), "keyword") for r in rows]

    async def delete_document(self, tenant_id: str, doc_id: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(DELETE_SQL, {"tenant_id": tenant_id, "doc_id": doc_id})


# [end:store]


def _chunk(tenant_id: str, row: dict[str, Any]) -> Chunk:
    return Chunk(
        doc_id=row["doc_id"],
        tenant_id=tenant_id,
        ordinal=row["ordinal"],
        text=row["content"],
        start=row["start_offset"],
        end=row["end_offset"],
        metadata=row["metadata"],
    )
