"""Chapter 11.1's answer caches: exact (in memory and on a real Redis) and semantic.

The semantic cache's false-hit risk is measured with a real sentence-embedding model
(all-MiniLM-L6-v2, NumPy forward pass) on 60 labelled near-duplicate support questions;
the figures asserted here are the ones the chapter quotes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
import redis.asyncio as aioredis
from chatbot.cost.cache import (
    CachedAnswer,
    CacheScope,
    ExactCache,
    LabelledPair,
    MemoryStore,
    RedisStore,
    SemanticCache,
    cacheable,
    contrast_conflict,
    measure_threshold,
    normalise,
)
from chatbot.rag.embeddings import Embedder
from conftest import BACKEND

DATA = BACKEND / "chatbot" / "cost" / "data"
SCOPE = CacheScope(
    tenant_id="acme", model="claude-haiku", prompt_version="p1", knowledge_version="k7"
)
ANSWER = CachedAnswer("Go to Settings > Billing > Invoices.", "claude-haiku", 2_500, 300)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pairs() -> list[LabelledPair]:
    rows = json.loads((DATA / "near_duplicates.json").read_text())["pairs"]
    return [LabelledPair(r["first"], r["second"], r["same_answer"]) for r in rows]


def contrast_terms() -> frozenset[str]:
    lines = (DATA / "contrast_terms.txt").read_text().splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def test_normalise_and_what_may_be_cached() -> None:
    assert normalise("  Where are my INVOICES?? ") == normalise("where are my invoices")
    assert normalise("ﬁle") == "file"  # NFKC: ligatures from copy-paste
    assert cacheable(history_turns=0, has_personal_data=False, uses_tools=False)
    assert not cacheable(history_turns=1, has_personal_data=False, uses_tools=False)
    assert not cacheable(history_turns=0, has_personal_data=True, uses_tools=False)
    assert not cacheable(history_turns=0, has_personal_data=False, uses_tools=True)


async def test_exact_cache_keys_on_everything_that_shapes_the_answer() -> None:
    now = [0.0]
    cache = ExactCache(MemoryStore(clock=lambda: now[0]), ttl_s=3600)
    await cache.put(SCOPE, "Where are my invoices?", ANSWER)
    assert await cache.get(SCOPE, "where are my invoices") == ANSWER
    for other in (
        CacheScope("globex", "claude-haiku", "p1", "k7"),
        CacheScope("acme", "claude-sonnet", "p1", "k7"),
        CacheScope("acme", "claude-haiku", "p2", "k7"),
        CacheScope("acme", "claude-haiku", "p1", "k8"),
    ):
        assert await cache.get(other, "Where are my invoices?") is None, other
    now[0] = 3601
    assert await cache.get(SCOPE, "Where are my invoices?") is None


async def test_exact_cache_on_redis_is_shared_and_expires(redis_url: str) -> None:
    client = aioredis.from_url(redis_url)
    try:
        writer = ExactCache(RedisStore(client), ttl_s=60)
        reader = ExactCache(RedisStore(client), ttl_s=60)  # another pod
        await writer.put(SCOPE, "Where are my invoices?", ANSWER)
        assert await reader.get(SCOPE, "WHERE are my invoices") == ANSWER
        key = writer.key(SCOPE, "Where are my invoices?")
        assert 0 < await client.ttl(key) <= 60
        assert key.startswith("chatbot:answer:")
    finally:
        await client.aclose()


def test_contrast_terms_catch_what_embeddings_miss() -> None:
    terms = contrast_terms()
    monthly = "Can I get a refund on a monthly plan?"
    assert contrast_conflict(monthly, "Can I get a refund on an annual plan?", terms)
    assert not contrast_conflict(monthly, "Refund on a monthly plan: possible?", terms)
    assert not contrast_conflict("How do I reset my password?", "I forgot my password", terms)


async def test_semantic_cache_serves_paraphrases_within_scope_only(minilm: Embedder) -> None:
    cache = SemanticCache(minilm, threshold=0.92, contrast_terms=contrast_terms())
    await cache.put(SCOPE, "Why was my card declined?", ANSWER)
    hit = await cache.get(SCOPE, "My card was declined, why?")
    assert hit is not None and hit[0] == ANSWER and hit[1] > 0.95
    assert (
        await cache.get(
            CacheScope("globex", "claude-haiku", "p1", "k7"), "Why was my card declined?"
        )
        is None
    )
    assert await cache.get(SCOPE, "Why was I charged tax?") is None
    await cache.put(SCOPE, "Can I get a refund on a monthly plan?", ANSWER)
    # 0.896 similar, and guarded anyway: a different plan, a different answer.
    loose = SemanticCache(minilm, threshold=0.85, contrast_terms=contrast_terms())
    await loose.put(SCOPE, "Can I get a refund on a monthly plan?", ANSWER)
    assert await loose.get(SCOPE, "Can I get a refund on an annual plan?") is None


async def test_false_hit_risk_by_threshold(minilm: Embedder) -> None:
    """The table in chapter 11.1: paraphrases served vs wrong answers served."""
    thresholds: Sequence[float] = (0.80, 0.85, 0.88, 0.90, 0.92, 0.95)
    plain = await measure_threshold(minilm, pairs(), thresholds)
    got = {r.threshold: (round(r.hit_rate, 2), round(r.false_hit_rate, 2)) for r in plain}
    assert got == {
        0.80: (0.73, 0.13),
        0.85: (0.60, 0.07),
        0.88: (0.57, 0.03),
        0.90: (0.40, 0.00),
        0.92: (0.33, 0.00),
        0.95: (0.20, 0.00),
    }
    worst = next(r for r in plain if r.threshold == 0.88).false_hits
    assert worst == (
        ("Can I get a refund on a monthly plan?", "Can I get a refund on an annual plan?"),
    )
    guarded = await measure_threshold(minilm, pairs(), thresholds, contrast_terms=contrast_terms())
    got = {r.threshold: (round(r.hit_rate, 2), round(r.false_hit_rate, 2)) for r in guarded}
    assert got[0.80] == (0.67, 0.03) and got[0.85] == (0.60, 0.00) and got[0.88] == (0.57, 0.00)
