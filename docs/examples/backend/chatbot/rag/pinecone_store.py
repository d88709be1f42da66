"""Pinecone behind :class:`~chatbot.rag.vectorstore.VectorStore`, on the v10 SDK.

Tested with ``pinecone`` 10.2. Version 10 declares an index as a *schema* of named fields
and reads and writes it through ``index.documents``; the v9-era ``spec=``/``dimension=``
arguments still work but are deprecated. One namespace per tenant: a namespace is a hard
partition, so a query can never see another tenant's vectors, deleting a tenant is one
call, and queries scan only that tenant's data (and are billed for it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pinecone import DenseVectorQuery, Index, Pinecone

from chatbot.rag.models import EmbeddedChunk, ScoredChunk, chunk_to_record, record_to_chunk
from chatbot.rag.vectorstore import Filter


# [start:create]
def index_schema(dimension: int) -> dict[str, Any]:
    """A dense field for our vectors and a full-text field for keyword search.

    Metadata fields (``doc_id``, ``lang``, ``acl``...) are not declared: Pinecone indexes
    them for filtering the first time they appear on an upserted document.
    """
    return {
        "fields": {
            "embedding": {"type": "dense_vector", "dimension": dimension, "metric": "cosine"},
            "text": {"type": "string", "full_text_search": {"language": "en"}},
        }
    }


def ensure_index(pc: Pinecone, name: str, *, dimension: int, cloud: str, region: str) -> str:
    """Create the index if it is missing; return its data-plane host.

    Run this from a deploy step, not at application start: creation blocks until the
    index is ready (tens of seconds), and 20 pods racing to create it is 19 conflicts.
    """
    if not pc.indexes.exists(name):
        pc.indexes.create(
            name=name,
            schema=index_schema(dimension),
            deployment={"deployment_type": "managed", "cloud": cloud, "region": region},
            deletion_protection="enabled",
        )
    host = pc.indexes.describe(name).host
    if not host:
        msg = f"index {name} has no host yet; is it still initializing?"
        raise RuntimeError(msg)
    return host


# [end:create]


# [start:store]
class PineconeVectorStore:
    """Namespace-per-tenant store over ``index.documents``.

    The v10 client is synchronous here; each call runs in a worker thread so it never
    blocks the event loop. ``AsyncPinecone`` is the alternative when the whole stack is
    async and you want one fewer thread hop.
    """

    def __init__(self, index: Index, *, upsert_batch: int = 100) -> None:
        self._index = index
        self._upsert_batch = upsert_batch

    @classmethod
    def connect(cls, pc: Pinecone, host: str) -> PineconeVectorStore:
        """Open the data plane by host, skipping the describe call ``index(name)`` makes."""
        return cls(pc.index(host=host))

    async def upsert(self, tenant_id: str, items: Sequence[EmbeddedChunk]) -> int:
        documents = [
            {
                "_id": item.chunk.chunk_id,
                "embedding": item.vector,
                **chunk_to_record(item.chunk),
                "embedding_model": item.embedding_model,
            }
            for item in items
        ]
        written = 0
        for start in range(0, len(documents), self._upsert_batch):
            batch = documents[start : start + self._upsert_batch]
            response = await asyncio.to_thread(
                self._index.documents.upsert, namespace=tenant_id, documents=batch
            )
            written += response.upserted_count
        return written

    async def query(
        self,
        tenant_id: str,
        vector: Sequence[float],
        *,
        top_k: int = 10,
        filter: Filter | None = None,
    ) -> list[ScoredChunk]:
        response = await asyncio.to_thread(
            self._index.documents.search,
            namespace=tenant_id,
            score_by=[DenseVectorQuery(field="embedding", values=list(vector))],
            top_k=top_k,
            include_fields=["*"],
            filter=_pinecone_filter(filter),
        )
        hits = []
        for match in response.matches:
            record = {k: v for k, v in match.to_dict().items() if not k.startswith("_")}
            record.pop("embedding", None)
            record.pop("embedding_model", None)
            hits.append(ScoredChunk(record_to_chunk(record), float(match.score or 0.0)))
        return hits

    async def delete_document(self, tenant_id: str, doc_id: str) -> None:
        await asyncio.to_thread(
            self._index.documents.delete, namespace=tenant_id, filter={"doc_id": {"$eq": doc_id}}
        )


# [end:store]


def _pinecone_filter(filter: Filter | None) -> dict[str, Any] | None:
    """Our filter language is already Pinecone's, once equality is spelled ``$eq``."""
    if not filter:
        return None
    clauses = [
        {key: dict(value) if isinstance(value, dict) else {"$eq": value}}
        for key, value in filter.items()
    ]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
