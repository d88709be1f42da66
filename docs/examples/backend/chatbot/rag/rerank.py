"""Second-stage re-ranking: a cross-encoder scores (query, chunk) pairs the retriever found.

A bi-encoder (the embedding model) compares two vectors computed separately; a
cross-encoder reads query and passage together and is far better at deciding relevance,
but costs a model call per pair. So retrieve 30-50 candidates cheaply, re-rank them, keep
the best 5-8. The wrapper below puts a deadline on the re-ranker and falls back to the
first-stage order when it misses it: a slow re-ranker must cost quality, never the turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from pinecone import Pinecone

from chatbot.rag.models import ScoredChunk
from chatbot.rag.retrieval import Retriever
from chatbot.rag.vectorstore import Filter

logger = logging.getLogger(__name__)


# [start:reranker]
class Reranker(Protocol):
    """Scores candidates against the query; returns the best ``top_n``, best first."""

    async def rerank(
        self, query: str, hits: Sequence[ScoredChunk], *, top_n: int
    ) -> list[ScoredChunk]: ...


class PineconeReranker:
    """Pinecone's hosted re-rankers through ``pc.inference.rerank``.

    The model name comes from settings. Documents are sent as ``{"text": ...}`` and only
    indices and scores come back (``return_documents=False``), which keeps the response
    small; a request carries at most ``max_documents`` candidates.
    """

    def __init__(self, pc: Pinecone, *, model: str, max_documents: int = 100) -> None:
        self._pc = pc
        self._model = model
        self._max = max_documents

    async def rerank(
        self, query: str, hits: Sequence[ScoredChunk], *, top_n: int
    ) -> list[ScoredChunk]:
        candidates = list(hits)[: self._max]
        if not candidates:
            return []
        result = await asyncio.to_thread(
            self._pc.inference.rerank,
            model=self._model,
            query=query,
            documents=[{"text": hit.chunk.text} for hit in candidates],
            top_n=min(top_n, len(candidates)),
            return_documents=False,
        )
        return [candidates[row.index].with_score(row.score, "rerank") for row in result.data]


# [end:reranker]


# [start:reranking-retriever]
class RerankingRetriever:
    """Over-fetch from ``base``, re-rank, and fall back to ``base``'s order on timeout."""

    def __init__(
        self,
        base: Retriever,
        reranker: Reranker,
        *,
        candidates: int = 40,
        timeout_s: float = 0.8,
        min_score: float | None = None,
    ) -> None:
        self._base = base
        self._reranker = reranker
        self._candidates = candidates
        self._timeout = timeout_s
        self._min_score = min_score
        self.fallbacks = 0

    async def retrieve(
        self, tenant_id: str, query: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]:
        hits = await self._base.retrieve(
            tenant_id, query, top_k=max(self._candidates, top_k), filter=filter
        )
        try:
            ranked = await asyncio.wait_for(
                self._reranker.rerank(query, hits, top_n=top_k), timeout=self._timeout
            )
        except Exception as exc:  # timeouts and API errors degrade the same way
            self.fallbacks += 1
            logger.warning("rerank skipped, using first-stage order: %s", type(exc).__name__)
            return hits[:top_k]
        if self._min_score is not None:
            # A calibrated cross-encoder score is an absolute relevance signal: below the
            # threshold, "no context" beats "irrelevant context" for answer quality.
            ranked = [hit for hit in ranked if hit.score >= self._min_score]
        return ranked


# [end:reranking-retriever]
