"""Retrievers: dense, keyword, hybrid with reciprocal rank fusion, multi-query, compression.

A retriever answers ``retrieve(tenant_id, query, top_k, filter)`` with scored chunks, best
first. Retrievers compose: the hybrid retriever fuses two others, the re-ranking
retriever in :mod:`chatbot.rag.rerank` wraps any of them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from contextlib import aclosing
from typing import Protocol

from chatbot.providers.base import ChatMessage, LLMProvider, TextDelta
from chatbot.rag.embeddings import EmbeddingService
from chatbot.rag.keyword import BM25Index
from chatbot.rag.models import Chunk, ScoredChunk
from chatbot.rag.vectorstore import Filter, VectorStore


class Retriever(Protocol):
    """Anything that returns ranked chunks for a query."""

    async def retrieve(
        self, tenant_id: str, query: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]: ...


# [start:dense]
class DenseRetriever:
    """Embed the query, ask the vector store."""

    def __init__(self, embeddings: EmbeddingService, store: VectorStore) -> None:
        self._embeddings = embeddings
        self._store = store

    async def retrieve(
        self, tenant_id: str, query: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]:
        [vector] = await self._embeddings.embed([query])
        return await self._store.query(tenant_id, vector, top_k=top_k, filter=filter)


# [end:dense]


class KeywordRetriever:
    """BM25 over a tenant's chunks, rebuilt by the caller when the corpus changes."""

    def __init__(self, chunks_by_tenant: Callable[[str], Sequence[Chunk]]) -> None:
        self._chunks = chunks_by_tenant
        self._indexes: dict[str, BM25Index] = {}

    def invalidate(self, tenant_id: str) -> None:
        self._indexes.pop(tenant_id, None)

    async def retrieve(
        self, tenant_id: str, query: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]:
        index = self._indexes.get(tenant_id)
        if index is None:
            index = self._indexes[tenant_id] = BM25Index(self._chunks(tenant_id))
        return index.search(query, top_k=top_k, filter=filter)


# [start:rrf]
def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[ScoredChunk]], *, k: int = 60, weights: Sequence[float] = ()
) -> list[ScoredChunk]:
    """Fuse ranked lists by ``sum(weight / (k + rank))``, ranks starting at 1.

    Only ranks matter, so a cosine similarity of 0.83 and a BM25 score of 14.2 never have
    to be put on one scale. ``k=60`` (from the original paper) flattens the advantage of
    the very top ranks; smaller ``k`` trusts each list's first hit more.
    """
    weights = list(weights) or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, hit in enumerate(ranking, start=1):
            key = hit.chunk.chunk_id
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
            chunks[key] = hit.chunk
    order = sorted(fused, key=lambda key: (-fused[key], key))
    return [ScoredChunk(chunks[key], fused[key], "rrf") for key in order]


class HybridRetriever:
    """Run dense and keyword retrieval concurrently and fuse them with RRF.

    Each side fetches ``candidates`` (default 4x ``top_k``) so a chunk ranked 15th by one
    retriever and 3rd by the other can still make the fused top 10.
    """

    def __init__(
        self,
        dense: Retriever,
        keyword: Retriever,
        *,
        k: int = 60,
        dense_weight: float = 1.0,
        keyword_weight: float = 1.0,
        candidates: int | None = None,
    ) -> None:
        self._dense, self._keyword = dense, keyword
        self._k = k
        self._weights = (dense_weight, keyword_weight)
        self._candidates = candidates

    async def retrieve(
        self, tenant_id: str, query: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]:
        n = self._candidates or top_k * 4
        dense, keyword = await asyncio.gather(
            self._dense.retrieve(tenant_id, query, top_k=n, filter=filter),
            self._keyword.retrieve(tenant_id, query, top_k=n, filter=filter),
        )
        fused = reciprocal_rank_fusion([dense, keyword], k=self._k, weights=self._weights)
        return fused[:top_k]


# [end:rrf]


# [start:multiquery]
_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s*")
MULTI_QUERY_PROMPT = (
    "Rewrite the user's question as {n} different search queries for a documentation "
    "search engine. Use other words and likely technical terms. One query per line, no "
    "numbering, no commentary.\n\nQuestion: {question}"
)


async def complete(provider: LLMProvider, prompt: str, *, system: str, max_tokens: int) -> str:
    """Collect a whole (short) completion from a streaming provider."""
    parts: list[str] = []
    stream = provider.stream(
        [ChatMessage("user", prompt)], system=system, max_output_tokens=max_tokens
    )
    async with aclosing(stream) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                parts.append(event.text)
    return "".join(parts)


class MultiQueryRetriever:
    """Ask a small model for paraphrases, retrieve for each, fuse with RRF.

    Costs one LLM call (about 300-600 ms with a small model) plus ``n`` retrievals run
    concurrently; worth it for short, vague questions, wasted on precise ones. Failure of
    the LLM call degrades to the original query alone rather than failing the turn.
    """

    def __init__(self, base: Retriever, provider: LLMProvider, *, n: int = 3) -> None:
        self._base, self._provider, self._n = base, provider, n

    async def queries(self, question: str) -> list[str]:
        prompt = MULTI_QUERY_PROMPT.format(n=self._n, question=question)
        try:
            text = await asyncio.wait_for(
                complete(self._provider, prompt, system="You write queries.", max_tokens=200),
                timeout=3.0,
            )
        except Exception:  # any failure: fall back to the user's words
            text = ""
        variants = [_LIST_MARKER.sub("", line).strip() for line in text.splitlines()]
        variants = [v for v in variants if v]
        return list(dict.fromkeys([question, *variants[: self._n]]))

    async def retrieve(
        self, tenant_id: str, query: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]:
        queries = await self.queries(query)
        rankings = await asyncio.gather(
            *(self._base.retrieve(tenant_id, q, top_k=top_k, filter=filter) for q in queries)
        )
        return reciprocal_rank_fusion(rankings)[:top_k]


# [end:multiquery]


# [start:compression]
class ContextualCompressor:
    """Keep only the sentences of each chunk that are close to the query.

    Retrieval works on 200-400 token chunks, but the answer usually sits in one or two
    sentences; sending only those cuts prompt tokens by half or more on long chunks. The
    sentence embeddings go through the same cached service, so repeated chunks are free.
    """

    def __init__(self, embeddings: EmbeddingService, *, threshold: float = 0.35) -> None:
        self._embeddings = embeddings
        self._threshold = threshold

    async def compress(self, query: str, hits: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        out: list[ScoredChunk] = []
        for hit in hits:
            sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", hit.chunk.text) if s.strip()]
            if len(sentences) <= 2:
                out.append(hit)
                continue
            [query_vector, *vectors] = await self._embeddings.embed([query, *sentences])
            kept = [
                s
                for s, v in zip(sentences, vectors, strict=True)
                if sum(a * b for a, b in zip(query_vector, v, strict=True)) >= self._threshold
            ]
            if kept:
                text = " ".join(kept)
                chunk = hit.chunk
                compressed = Chunk(
                    chunk.doc_id,
                    chunk.tenant_id,
                    chunk.ordinal,
                    text,
                    chunk.start,
                    chunk.end,
                    {**chunk.metadata, "compressed": True},
                )
                out.append(ScoredChunk(compressed, hit.score, hit.source))
        return out


# [end:compression]


# [start:context]
def format_context(
    hits: Sequence[ScoredChunk], *, budget_tokens: int, length: Callable[[str], int]
) -> str:
    """Number the chunks for citation and stop before the token budget is exceeded."""
    blocks: list[str] = []
    used = 0
    for number, hit in enumerate(hits, start=1):
        title = hit.chunk.metadata.get("title", hit.chunk.doc_id)
        section = hit.chunk.metadata.get("section")
        heading = f"[{number}] {title}" + (f" > {section}" if section else "")
        block = f"{heading}\n{hit.chunk.text.strip()}"
        cost = length(block)
        if used + cost > budget_tokens:
            break
        blocks.append(block)
        used += cost
    return "\n\n".join(blocks)


# [end:context]
