"""The ingestion pipeline: load, skip unchanged, chunk, embed in batches, replace, report.

Idempotent by construction. Chunk ids are derived from (document, position, text), a
document whose content hash has not changed is skipped before any embedding is paid for,
and a changed document's old chunks are deleted before the new ones are written, so
re-running an ingestion after a crash converges on the right state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field

from chatbot.rag.chunking import Chunker
from chatbot.rag.embeddings import EmbeddingService
from chatbot.rag.models import Chunk, Document, EmbeddedChunk
from chatbot.rag.vectorstore import VectorStore

logger = logging.getLogger(__name__)


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded: the chunk with its title and section path in front.

    Stored and shown text stay the chunk alone; only the vector sees the header.
    """
    header = " > ".join(
        str(part) for part in (chunk.metadata.get("title"), chunk.metadata.get("section")) if part
    )
    return f"{header}\n{chunk.text}" if header else chunk.text


# [start:pipeline]
@dataclass(slots=True)
class IngestReport:
    """What one run did, for logs and the ingestion job's metrics."""

    documents_seen: int = 0
    documents_skipped: int = 0
    documents_indexed: int = 0
    documents_failed: list[str] = field(default_factory=list)
    chunks_written: int = 0
    texts_embedded: int = 0


class IngestionPipeline:
    """Turns documents into searchable chunks in a :class:`VectorStore`.

    ``hashes`` maps ``(tenant, doc_id)`` to the content hash last indexed; in production
    it is a column of the ``documents`` table, here any mutable mapping.
    """

    def __init__(
        self,
        chunker: Chunker,
        embeddings: EmbeddingService,
        store: VectorStore,
        *,
        hashes: MutableMapping[tuple[str, str], str] | None = None,
        max_concurrent_documents: int = 8,
    ) -> None:
        self._chunker = chunker
        self._embeddings = embeddings
        self._store = store
        self._hashes: MutableMapping[tuple[str, str], str] = {} if hashes is None else hashes
        self._semaphore = asyncio.Semaphore(max_concurrent_documents)

    async def ingest(self, documents: Iterable[Document]) -> IngestReport:
        report = IngestReport()
        before = self._embeddings.embedded_total
        await asyncio.gather(*(self._one(doc, report) for doc in documents))
        report.texts_embedded = self._embeddings.embedded_total - before
        return report

    async def _one(self, document: Document, report: IngestReport) -> None:
        report.documents_seen += 1
        key = (document.tenant_id, document.doc_id)
        if self._hashes.get(key) == document.content_hash:
            report.documents_skipped += 1
            return
        async with self._semaphore:
            try:
                chunks = self._chunker.chunk(document)
                vectors = await self._embeddings.embed([embedding_text(c) for c in chunks])
                model = self._embeddings.embedder.model
                items = [EmbeddedChunk(c, v, model) for c, v in zip(chunks, vectors, strict=True)]
                await self._store.delete_document(document.tenant_id, document.doc_id)
                report.chunks_written += await self._store.upsert(document.tenant_id, items)
            except Exception:
                # One bad document must not sink a 50,000-document run; it is reported
                # and retried on the next run because its hash was not recorded.
                logger.exception("ingestion failed for %s", document.doc_id)
                report.documents_failed.append(document.doc_id)
                return
        self._hashes[key] = document.content_hash
        report.documents_indexed += 1


# [end:pipeline]
