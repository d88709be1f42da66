"""Chunkers, loaders, the embedding service, ingestion, fusion and retrieval, run for real."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx2
import pytest
import redis.asyncio as redis
from chatbot.providers.base import (
    ChatMessage,
    Finish,
    LLMProvider,
    StreamEvent,
    TextDelta,
    ToolSpec,
)
from chatbot.rag.chunking import FixedSizeChunker, MarkdownChunker, RecursiveChunker
from chatbot.rag.embeddings import (
    EmbeddingService,
    HashingEmbedder,
    LRUEmbeddingCache,
    OpenAIEmbedder,
    RedisEmbeddingCache,
)
from chatbot.rag.evaluation import EVALSET
from chatbot.rag.ingestion import IngestionPipeline, embedding_text
from chatbot.rag.loaders import MetadataExtractor, html_to_text, iter_documents, load_document
from chatbot.rag.models import Chunk, Document, ScoredChunk
from chatbot.rag.retrieval import (
    ContextualCompressor,
    DenseRetriever,
    HybridRetriever,
    KeywordRetriever,
    MultiQueryRetriever,
    format_context,
    reciprocal_rank_fusion,
)
from chatbot.rag.vectorstore import InMemoryVectorStore, VectorStore
from openai import AsyncOpenAI

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


MARKDOWN = """# Billing

Intro paragraph about billing.

## Refunds

Annual plans are refunded pro rata. Monthly plans are not refunded.

```bash
# not a heading: a shell comment
echo refund
```

### Card refunds

Card refunds take 5 to 10 business days.

## Invoices

Invoices are emailed monthly.
"""


# --- chunking ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunker",
    [FixedSizeChunker(40, 8), RecursiveChunker(40, 8), MarkdownChunker(40, 8)],
    ids=["fixed", "recursive", "markdown"],
)
def test_chunks_are_exact_slices_within_budget_and_cover_the_text(chunker: object) -> None:
    text = MARKDOWN + "\n\n" + "\n\n".join(_words(30) + "." for _ in range(6))
    doc = Document("billing.md", "acme", text, {"title": "Billing"})
    chunks = chunker.chunk(doc)  # type: ignore[attr-defined]
    assert len(chunks) > 3
    covered = set()
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.metadata["title"] == "Billing"
        covered.update(range(chunk.start, chunk.end))
        assert len(chunk.text) <= 40 * 4 + 40  # a single over-long word is the only excess
    uncovered = {i for i in range(len(text)) if i not in covered and not text[i].isspace()}
    assert not uncovered, "every non-blank character lands in some chunk"
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_fixed_chunker_overlaps_by_the_budget() -> None:
    doc = Document("a.txt", "acme", _words(100))
    chunks = FixedSizeChunker(max_tokens=20, overlap=6, length=lambda _w: 1).chunk(doc)
    assert [len(c.text.split()) for c in chunks[:-1]] == [20] * (len(chunks) - 1)
    first, second = chunks[0].text.split(), chunks[1].text.split()
    assert first[-6:] == second[:6]


def test_recursive_chunker_prefers_paragraph_boundaries() -> None:
    paragraphs = [_words(12), _words(12), _words(12)]
    doc = Document("a.txt", "acme", "\n\n".join(paragraphs))
    chunks = RecursiveChunker(max_tokens=30, overlap=0, length=lambda t: len(t.split())).chunk(doc)
    assert [c.text.strip() for c in chunks] == [
        paragraphs[0] + "\n\n" + paragraphs[1],
        paragraphs[2],
    ]


def test_markdown_chunker_records_heading_paths_and_ignores_fenced_hashes() -> None:
    chunks = MarkdownChunker(max_tokens=200).chunk(Document("b.md", "acme", MARKDOWN))
    sections = [c.metadata.get("section") for c in chunks]
    assert sections == [
        "Billing",
        "Billing > Refunds",
        "Billing > Refunds > Card refunds",
        "Billing > Invoices",
    ]
    assert "# not a heading" in chunks[1].text
    assert embedding_text(chunks[2]).startswith("Billing > Refunds > Card refunds\n")


# --- loading and metadata ------------------------------------------------------------------


def test_html_loader_drops_navigation_and_keeps_headings() -> None:
    html = (
        "<html><head><title>SSO</title><style>p{}</style></head><body>"
        "<nav>Home | Pricing</nav><h1>Single sign-on</h1><p>Use SAML&nbsp;2.0.</p>"
        "<script>track()</script><footer>© Acme</footer></body></html>"
    )
    title, text = html_to_text(html)
    assert title == "SSO"
    assert text == "# Single sign-on\n\nUse SAML 2.0."  # &nbsp; normalised to a space


def test_front_matter_becomes_metadata(tmp_path: Path) -> None:
    page = tmp_path / "kb" / "refunds.md"
    page.parent.mkdir()
    page.write_text("---\ntitle: Refunds\nacl: [admins, billing]\n---\n# Ignored heading\nBody\n")
    doc = load_document(page, tenant_id="acme", root=tmp_path)
    assert doc.doc_id == "kb/refunds.md"
    assert doc.text.startswith("# Ignored heading")
    assert doc.metadata["title"] == "Refunds"
    assert doc.metadata["acl"] == ["admins", "billing"]
    assert doc.metadata["doc_type"] == "md"
    with pytest.raises(ValueError, match="unsupported"):
        load_document(tmp_path / "x.pdf", tenant_id="acme", root=tmp_path)


def test_title_falls_back_to_heading_then_file_name() -> None:
    extractor = MetadataExtractor()
    _, meta = extractor.extract("# Data retention\ntext", source="data/retention.md")
    assert meta["title"] == "Data retention"
    _, meta = extractor.extract("no heading", source="data/api-limits.txt")
    assert meta["title"] == "Api Limits"


# --- embeddings ----------------------------------------------------------------------------


class CountingEmbedder(HashingEmbedder):
    def __init__(self, max_batch: int) -> None:
        super().__init__(dimension=16)
        self.max_batch = max_batch
        self.batches: list[int] = []

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches.append(len(texts))
        return await super().embed(texts)


async def test_service_deduplicates_caches_and_batches_by_count_and_tokens() -> None:
    embedder = CountingEmbedder(max_batch=3)
    service = EmbeddingService(embedder, LRUEmbeddingCache(), max_batch_tokens=10)
    texts = ["alpha", "beta", "alpha", "gamma", "delta", "epsilon"]
    vectors = await service.embed(texts)
    assert len(vectors) == 6 and vectors[0] == vectors[2]
    assert embedder.batches == [3, 2]  # 5 unique texts, at most 3 per request
    assert service.last_stats.unique == 5 and service.last_stats.cache_hits == 0
    await service.embed(["beta", "zeta"])
    assert embedder.batches == [3, 2, 1]
    assert service.last_stats.cache_hits == 1
    long_texts = ["x" * 24, "y" * 24, "z" * 24]  # 6 approximate tokens each
    await service.embed(long_texts)
    assert embedder.batches[-2:] == [1, 1] or embedder.batches[-3:] == [1, 1, 1]


async def test_wrong_dimension_is_an_error() -> None:
    class Truncating(HashingEmbedder):
        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return [v[:8] for v in await super().embed(texts)]

    service = EmbeddingService(Truncating(dimension=16))  # the deployment serves 8 dims
    with pytest.raises(ValueError, match="returned 8 dims, expected 16"):
        await service.embed(["text"])


async def test_redis_cache_round_trips_float32(redis_url: str) -> None:
    client = redis.from_url(redis_url, decode_responses=False)
    try:
        cache = RedisEmbeddingCache(client, ttl_s=60)
        service = EmbeddingService(HashingEmbedder(dimension=32), cache)
        first = await service.embed(["refund policy"])
        second_service = EmbeddingService(HashingEmbedder(dimension=32), cache)
        second = await second_service.embed(["refund policy"])
        assert second_service.last_stats.cache_hits == 1
        assert second[0] == pytest.approx(first[0], abs=1e-6)
        key = f"emb:{service.key('refund policy')}"
        assert await client.strlen(key) == 32 * 4
        assert 0 < await client.ttl(key) <= 60
    finally:
        await client.aclose()


async def test_openai_embedder_sends_model_and_dimensions_from_settings() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        seen.append(body)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(i)] * body["dimensions"]}
            for i in range(len(body["input"]))
        ][::-1]  # the API may return items out of order; index is the truth
        usage = {"prompt_tokens": 4, "total_tokens": 4}
        return httpx2.Response(
            200, json={"object": "list", "data": data, "model": body["model"], "usage": usage}
        )

    client = AsyncOpenAI(
        api_key="test", http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    )
    embedder = OpenAIEmbedder(client, model="embedding-model-from-settings", dimension=4)
    vectors = await embedder.embed(["a", "b"])
    assert vectors == [[0.0] * 4, [1.0] * 4]
    assert seen[0]["model"] == "embedding-model-from-settings"
    assert seen[0]["dimensions"] == 4 and seen[0]["encoding_format"] == "float"


# --- ingestion ------------------------------------------------------------------------------


async def test_ingestion_is_idempotent_and_replaces_changed_documents() -> None:
    store = InMemoryVectorStore()
    assert isinstance(store, VectorStore)
    service = EmbeddingService(HashingEmbedder())
    pipeline = IngestionPipeline(MarkdownChunker(max_tokens=64), service, store)
    docs = iter_documents(EVALSET / "docs", tenant_id="acme")
    first = await pipeline.ingest(docs)
    assert first.documents_indexed == 6 and first.chunks_written == len(store.chunks("acme"))
    again = await pipeline.ingest(docs)
    assert again.documents_skipped == 6 and again.texts_embedded == 0
    changed = Document(
        docs[0].doc_id, "acme", docs[0].text + "\n\nNew paragraph.", docs[0].metadata
    )
    third = await pipeline.ingest([changed])
    assert third.documents_indexed == 1
    ids = [c.doc_id for c in store.chunks("acme")]
    assert ids.count(docs[0].doc_id) == len(MarkdownChunker(max_tokens=64).chunk(changed))
    assert third.texts_embedded <= 2  # unchanged chunks came from the cache


async def test_one_failing_document_does_not_stop_the_run() -> None:
    class Flaky(InMemoryVectorStore):
        async def upsert(self, tenant_id: str, items: Sequence[object]) -> int:  # type: ignore[override]
            if any(i.chunk.doc_id == "bad.md" for i in items):  # type: ignore[attr-defined]
                raise ConnectionError("vector store timed out")
            return await super().upsert(tenant_id, items)  # type: ignore[arg-type]

    pipeline = IngestionPipeline(RecursiveChunker(), EmbeddingService(HashingEmbedder()), Flaky())
    docs = [Document("bad.md", "acme", "bad"), Document("good.md", "acme", "good")]
    report = await pipeline.ingest(docs)
    assert report.documents_failed == ["bad.md"] and report.documents_indexed == 1
    retry = await pipeline.ingest(docs)
    assert retry.documents_skipped == 1 and retry.documents_failed == ["bad.md"]


# --- stores, fusion, retrieval -----------------------------------------------------------------


def _hit(doc: str, score: float = 1.0, text: str = "") -> ScoredChunk:
    return ScoredChunk(Chunk(doc, "acme", 0, text or doc, 0, 1), score)


def test_rrf_rewards_agreement_and_ignores_raw_scores() -> None:
    dense = [_hit("a", 0.91), _hit("b", 0.90), _hit("c", 0.10)]
    keyword = [_hit("b", 42.0), _hit("c", 7.0)]
    fused = reciprocal_rank_fusion([dense, keyword], k=60)
    assert [h.chunk.doc_id for h in fused] == ["b", "c", "a"]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    dense_only = reciprocal_rank_fusion([dense, keyword], k=60, weights=[1.0, 0.0])
    assert [h.chunk.doc_id for h in dense_only] == ["a", "b", "c"]


async def test_in_memory_store_filters_and_isolates_tenants() -> None:
    store = InMemoryVectorStore()
    service = EmbeddingService(HashingEmbedder())
    pipeline = IngestionPipeline(MarkdownChunker(max_tokens=64), service, store)
    await pipeline.ingest(iter_documents(EVALSET / "docs", tenant_id="acme"))
    dense = DenseRetriever(service, store)
    hits = await dense.retrieve("acme", "SAML entity ID", top_k=20, filter={"acl": "admins"})
    assert hits and {h.chunk.doc_id for h in hits} == {"security/sso.md"}
    hits = await dense.retrieve("acme", "plans", top_k=50, filter={"product": {"$in": ["api"]}})
    assert {h.chunk.doc_id for h in hits} == {"limits/api-rate-limits.md"}
    assert await dense.retrieve("globex", "SAML") == []
    with pytest.raises(ValueError, match="unsupported operator"):
        await dense.retrieve("acme", "x", filter={"lang": {"$ne": "en"}})  # type: ignore[dict-item]


async def test_hybrid_finds_exact_codes_that_dense_hashing_misses() -> None:
    store = InMemoryVectorStore()
    service = EmbeddingService(HashingEmbedder())
    await IngestionPipeline(MarkdownChunker(max_tokens=64), service, store).ingest(
        iter_documents(EVALSET / "docs", tenant_id="acme")
    )
    keyword = KeywordRetriever(store.chunks)
    hybrid = HybridRetriever(DenseRetriever(service, store), keyword)
    dense_hits = await DenseRetriever(service, store).retrieve("acme", "E4012", top_k=3)
    hits = await hybrid.retrieve("acme", "E4012", top_k=3)
    assert not any("E4012" in h.chunk.text for h in dense_hits)
    assert any("E4012" in h.chunk.text for h in hits[:2])
    assert {h.source for h in hits} == {"rrf"}


class ScriptedProvider(LLMProvider):
    """Replies with a fixed text: a stand-in model for prompts whose parsing is under test."""

    name = "scripted"

    def __init__(self, reply: str, *, fail: bool = False) -> None:
        self.reply, self.fail = reply, fail
        self.prompts: list[str] = []

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
    ) -> AsyncIterator[StreamEvent]:
        self.prompts.append(messages[-1].content)
        if self.fail:
            raise TimeoutError("model timed out")
        yield TextDelta(self.reply)
        yield Finish("stop")


class RecordingRetriever:
    def __init__(self) -> None:
        self.queries: list[str] = []

    async def retrieve(
        self, tenant_id: str, query: str, *, top_k: int = 10, filter: object = None
    ) -> list[ScoredChunk]:
        self.queries.append(query)
        return [_hit(f"{query}.md")]


async def test_multi_query_fuses_paraphrases_and_survives_llm_failure() -> None:
    base = RecordingRetriever()
    provider = ScriptedProvider("1. refund timeline\n- card refund days\n\nrefund timeline")
    retriever = MultiQueryRetriever(base, provider, n=3)
    hits = await retriever.retrieve("acme", "when do I get my money back", top_k=5)
    assert base.queries == ["when do I get my money back", "refund timeline", "card refund days"]
    assert len(hits) == 3
    failing = MultiQueryRetriever(RecordingRetriever(), ScriptedProvider("", fail=True))
    assert [q for q in await failing.queries("why")] == ["why"]


async def test_compression_keeps_the_relevant_sentences() -> None:
    service = EmbeddingService(HashingEmbedder(dimension=512))
    text = (
        "Our offices are in Lisbon. Card refunds take 5 to 10 business days. "
        "The cafeteria opens at noon. Bank transfer refunds take 15 business days."
    )
    [compressed] = await ContextualCompressor(service, threshold=0.2).compress(
        "how many business days do refunds take", [_hit("r.md", text=text)]
    )
    assert "Card refunds take 5 to 10 business days." in compressed.chunk.text
    assert "cafeteria" not in compressed.chunk.text
    assert compressed.chunk.metadata["compressed"] is True


def test_context_is_numbered_and_stops_at_the_budget() -> None:
    hits = [
        ScoredChunk(
            Chunk("a.md", "acme", 0, "alpha " * 10, 0, 1, {"title": "A", "section": "S"}), 1
        ),
        ScoredChunk(Chunk("b.md", "acme", 0, "beta " * 10, 0, 1, {"title": "B"}), 1),
        ScoredChunk(Chunk("c.md", "acme", 0, "gamma " * 200, 0, 1, {"title": "C"}), 1),
    ]
    context = format_context(hits, budget_tokens=40, length=lambda t: len(t.split()))
    assert context.startswith("[1] A > S\nalpha")
    assert "[2] B\nbeta" in context and "gamma" not in context
