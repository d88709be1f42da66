"""The vector-store interface every backend implements, and an exact in-memory backend.

The tenant is a required argument of every call rather than one more filter key: a
forgotten filter then fails to type-check instead of leaking another customer's documents.
Filters are a deliberately small language, ``{"key": value}`` for equality and
``{"key": {"$in": [...]}}`` for membership, because that is the subset Pinecone, pgvector,
Qdrant and Weaviate all evaluate inside the index scan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from chatbot.rag.models import Chunk, EmbeddedChunk, ScoredChunk

FilterValue = str | int | float | bool | Mapping[str, Sequence[str | int]]
Filter = Mapping[str, FilterValue]


# [start:protocol]
@runtime_checkable
class VectorStore(Protocol):
    """Stores chunk vectors per tenant and returns the nearest ones."""

    async def upsert(self, tenant_id: str, items: Sequence[EmbeddedChunk]) -> int:
        """Insert or overwrite by ``chunk_id``; returns how many were written."""
        ...

    async def query(
        self,
        tenant_id: str,
        vector: Sequence[float],
        *,
        top_k: int = 10,
        filter: Filter | None = None,
    ) -> list[ScoredChunk]:
        """Nearest chunks first; ``score`` is cosine similarity (higher is closer)."""
        ...

    async def delete_document(self, tenant_id: str, doc_id: str) -> None:
        """Remove every chunk of one document (re-ingestion and GDPR erasure)."""
        ...


# [end:protocol]


def matches(metadata: Mapping[str, object], filter: Filter | None) -> bool:
    """Evaluate the filter language against one chunk's metadata."""
    if not filter:
        return True
    for key, expected in filter.items():
        actual = metadata.get(key)
        if isinstance(expected, Mapping):
            allowed = expected.get("$in")
            if allowed is None:
                msg = f"unsupported operator in filter for {key!r}; use a value or {{'$in': [...]}}"
                raise ValueError(msg)
            if isinstance(actual, list):
                if not set(actual) & set(allowed):
                    return False
            elif actual not in allowed:
                return False
        elif isinstance(actual, list):
            if expected not in actual:
                return False
        elif actual != expected:
            return False
    return True


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0.0 for a zero vector rather than a division error."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


# [start:memory]
class InMemoryVectorStore:
    """Exact (brute-force) search: the reference the approximate indexes are measured against.

    Fine up to roughly 50k vectors per tenant in a test or a single-tenant demo; beyond
    that, every query costs a full scan.
    """

    def __init__(self) -> None:
        self._items: dict[str, dict[str, EmbeddedChunk]] = {}

    async def upsert(self, tenant_id: str, items: Sequence[EmbeddedChunk]) -> int:
        bucket = self._items.setdefault(tenant_id, {})
        for item in items:
            if item.chunk.tenant_id != tenant_id:
                msg = f"chunk {item.chunk.chunk_id} belongs to {item.chunk.tenant_id}"
                raise ValueError(msg)
            bucket[item.chunk.chunk_id] = item
        return len(items)

    async def query(
        self,
        tenant_id: str,
        vector: Sequence[float],
        *,
        top_k: int = 10,
        filter: Filter | None = None,
    ) -> list[ScoredChunk]:
        candidates = [
            ScoredChunk(item.chunk, cosine(vector, item.vector))
            for item in self._items.get(tenant_id, {}).values()
            if matches(_filterable(item.chunk), filter)
        ]
        candidates.sort(key=lambda hit: (-hit.score, hit.chunk.chunk_id))
        return candidates[:top_k]

    async def delete_document(self, tenant_id: str, doc_id: str) -> None:
        bucket = self._items.get(tenant_id, {})
        for chunk_id in [cid for cid, item in bucket.items() if item.chunk.doc_id == doc_id]:
            del bucket[chunk_id]

    def chunks(self, tenant_id: str) -> list[Chunk]:
        """Every stored chunk of a tenant, for keyword indexes and tests."""
        return [item.chunk for item in self._items.get(tenant_id, {}).values()]


# [end:memory]


def _filterable(chunk: Chunk) -> dict[str, object]:
    return {"doc_id": chunk.doc_id, **chunk.metadata}
