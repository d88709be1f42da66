"""The data that flows through the RAG pipeline: documents, chunks, and scored hits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

Metadata = dict[str, str | int | float | bool | list[str]]


# [start:models]
@dataclass(frozen=True, slots=True)
class Document:
    """One source file or record, before chunking.

    ``doc_id`` is stable across re-ingestion (a path or a CMS id), so re-ingesting a changed
    document replaces its chunks instead of adding a second copy.
    """

    doc_id: str
    tenant_id: str
    text: str
    metadata: Metadata = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Hash of the text: unchanged documents are skipped on re-ingestion."""
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable piece of a document, with the offsets it came from."""

    doc_id: str
    tenant_id: str
    ordinal: int
    text: str
    start: int
    end: int
    metadata: Metadata = field(default_factory=dict)

    @property
    def chunk_id(self) -> str:
        """Deterministic id: the same chunk re-ingested overwrites itself."""
        digest = hashlib.sha256(f"{self.doc_id}\x00{self.ordinal}\x00{self.text}".encode())
        return f"{self.doc_id}#{self.ordinal}-{digest.hexdigest()[:12]}"


@dataclass(frozen=True, slots=True)
class EmbeddedChunk:
    """A chunk and its vector, ready for a vector store."""

    chunk: Chunk
    vector: list[float]
    embedding_model: str


@dataclass(frozen=True, slots=True)
class ScoredChunk:
    """A retrieval hit. ``score`` is higher-is-better whatever the backend's metric."""

    chunk: Chunk
    score: float
    source: str = "dense"

    def with_score(self, score: float, source: str) -> ScoredChunk:
        """Copy with a new score, used by fusion and re-ranking."""
        return ScoredChunk(self.chunk, score, source)


def chunk_to_record(chunk: Chunk) -> dict[str, Any]:
    """Flat metadata stored next to a vector (what every backend can filter on)."""
    return {
        "doc_id": chunk.doc_id,
        "tenant_id": chunk.tenant_id,
        "ordinal": chunk.ordinal,
        "text": chunk.text,
        "start": chunk.start,
        "end": chunk.end,
        **chunk.metadata,
    }


def record_to_chunk(record: dict[str, Any]) -> Chunk:
    """Inverse of :func:`chunk_to_record`."""
    reserved = {"doc_id", "tenant_id", "ordinal", "text", "start", "end"}
    return Chunk(
        doc_id=str(record["doc_id"]),
        tenant_id=str(record["tenant_id"]),
        ordinal=int(record["ordinal"]),
        text=str(record["text"]),
        start=int(record["start"]),
        end=int(record["end"]),
        metadata={k: v for k, v in record.items() if k not in reserved},
    )


# [end:models]
