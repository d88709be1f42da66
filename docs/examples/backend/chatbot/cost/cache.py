"""Answer caches: exact (normalised text) and semantic (embedding similarity).

A cached answer costs nothing and arrives in milliseconds, and it is the one cost lever
that can serve a user the *wrong* answer: to someone else's question, from another
tenant's documents, or from before the knowledge base changed. Everything that shapes
an answer besides the question therefore goes into the :class:`CacheScope`, and only
context-free turns (the first of a conversation, no personal data) are cached at all.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np
import redis.asyncio as redis

from chatbot.rag.embeddings import Embedder

Clock = Callable[[], float]


# [start:scope]
@dataclass(frozen=True, slots=True)
class CacheScope:
    """Everything besides the question that shapes the answer; part of every key."""

    tenant_id: str  # never share answers across tenants: documents and policies differ
    model: str  # catalog key: a cheaper model's answer is not the stronger one's
    prompt_version: str  # hash of system prompt and tool definitions
    knowledge_version: str = ""  # the tenant's index build: new documents, new answers

    def digest(self) -> str:
        raw = "\x1f".join((self.tenant_id, self.model, self.prompt_version, self.knowledge_version))
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def normalise(question: str) -> str:
    """Case, Unicode form, whitespace and trailing punctuation never change an answer."""
    text = unicodedata.normalize("NFKC", question).casefold()
    return re.sub(r"\s+", " ", text).strip().rstrip("?!. ")


def contrast_conflict(first: str, second: str, terms: frozenset[str]) -> bool:
    """Both questions name terms from the contrast list, and not the same ones.

    Embeddings place "refund on a monthly plan" next to "refund on an annual plan"; a
    short per-tenant list of words whose difference changes the answer (plan names,
    billing periods, platforms, regions, opposite actions) catches what they miss.
    """
    a, b = (set(re.findall(r"[\w-]+", normalise(q))) & terms for q in (first, second))
    return a != b


def cacheable(*, history_turns: int, has_personal_data: bool, uses_tools: bool) -> bool:
    """Only a conversation's first turn: later ones depend on what was said before."""
    return history_turns == 0 and not has_personal_data and not uses_tools


# [end:scope]


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    text: str
    model: str
    input_tokens: int  # what a hit saves, for the cost dashboard
    output_tokens: int
    created_at: float = 0.0


class KeyValueStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, *, ttl_s: int) -> None: ...


@dataclass
class MemoryStore:
    """A dict with expiry, for one process and for tests."""

    clock: Clock = time.monotonic
    _items: dict[str, tuple[float, str]] = field(default_factory=dict)

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None or item[0] <= self.clock():
            self._items.pop(key, None)
            return None
        return item[1]

    async def set(self, key: str, value: str, *, ttl_s: int) -> None:
        self._items[key] = (self.clock() + ttl_s, value)


class RedisStore:
    """Shared by every pod: a hit on one serves them all."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    async def get(self, key: str) -> str | None:
        value = await self._client.get(key)
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, *, ttl_s: int) -> None:
        await self._client.set(key, value, ex=ttl_s)


# [start:exact]
class ExactCache:
    """Normalised question + scope -> answer, with a TTL that bounds staleness."""

    def __init__(self, store: KeyValueStore, *, ttl_s: int = 24 * 3600) -> None:
        self._store = store
        self._ttl_s = ttl_s

    def key(self, scope: CacheScope, question: str) -> str:
        digest = hashlib.sha256(normalise(question).encode()).hexdigest()[:32]
        return f"chatbot:answer:{scope.digest()}:{digest}"

    async def get(self, scope: CacheScope, question: str) -> CachedAnswer | None:
        raw = await self._store.get(self.key(scope, question))
        return CachedAnswer(**json.loads(raw)) if raw else None

    async def put(self, scope: CacheScope, question: str, answer: CachedAnswer) -> None:
        payload = json.dumps(asdict(answer))
        await self._store.set(self.key(scope, question), payload, ttl_s=self._ttl_s)


# [end:exact]


# [start:semantic]
class SemanticCache:
    """Nearest cached question by cosine similarity, served only above ``threshold``.

    In-process and brute force: a matrix product over at most ``max_entries`` vectors
    per scope (10,000 x 384 floats is 15 MB; a few milliseconds a lookup). At fleet
    scale the same lookup runs in the vector store with the scope digest as a filter.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        threshold: float = 0.92,  # measured: see measure_threshold and chapter 11.1
        contrast_terms: frozenset[str] = frozenset(),
        max_entries: int = 10_000,
    ) -> None:
        self._embedder = embedder
        self.threshold = threshold
        self._contrast = contrast_terms
        self._max_entries = max_entries
        self._vectors: dict[str, list[np.ndarray]] = {}
        self._entries: dict[str, list[tuple[str, CachedAnswer]]] = {}

    async def get(self, scope: CacheScope, question: str) -> tuple[CachedAnswer, float] | None:
        vectors = self._vectors.get(scope.digest())
        if not vectors:
            return None
        query = (await self._embed([question]))[0]
        scores = np.stack(vectors) @ query
        best = int(np.argmax(scores))
        cached_question, answer = self._entries[scope.digest()][best]
        if scores[best] < self.threshold:
            return None
        if contrast_conflict(cached_question, question, self._contrast):
            return None
        return answer, float(scores[best])

    async def put(self, scope: CacheScope, question: str, answer: CachedAnswer) -> None:
        vectors = self._vectors.setdefault(scope.digest(), [])
        entries = self._entries.setdefault(scope.digest(), [])
        if len(vectors) >= self._max_entries:  # oldest out: FAQ traffic repeats recent asks
            vectors.pop(0)
            entries.pop(0)
        vectors.append((await self._embed([question]))[0])
        entries.append((question, answer))

    async def _embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        rows = await self._embedder.embed([normalise(t) for t in texts])
        return [unit(np.asarray(row, dtype=np.float32)) for row in rows]


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


# [end:semantic]


# [start:false-hits]
@dataclass(frozen=True, slots=True)
class LabelledPair:
    """Two questions and whether one's answer is right for the other."""

    first: str
    second: str
    same_answer: bool


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    threshold: float
    hit_rate: float  # share of same-answer pairs the cache would serve
    false_hit_rate: float  # share of different-answer pairs it would serve anyway
    false_hits: tuple[tuple[str, str], ...]


async def measure_threshold(
    embedder: Embedder,
    pairs: Sequence[LabelledPair],
    thresholds: Sequence[float],
    *,
    contrast_terms: frozenset[str] = frozenset(),
) -> list[ThresholdResult]:
    """How often each threshold serves a paraphrase, and how often a wrong answer."""
    firsts = await embedder.embed([normalise(p.first) for p in pairs])
    seconds = await embedder.embed([normalise(p.second) for p in pairs])
    scores = [
        -1.0
        if contrast_conflict(p.first, p.second, contrast_terms)
        else float(unit(np.asarray(a)) @ unit(np.asarray(b)))
        for a, b, p in zip(firsts, seconds, pairs, strict=True)
    ]
    same = [s for s, p in zip(scores, pairs, strict=True) if p.same_answer]
    different = [(s, p) for s, p in zip(scores, pairs, strict=True) if not p.same_answer]
    results = []
    for threshold in thresholds:
        wrong = tuple((p.first, p.second) for s, p in different if s >= threshold)
        results.append(
            ThresholdResult(
                threshold=threshold,
                hit_rate=sum(s >= threshold for s in same) / len(same),
                false_hit_rate=len(wrong) / len(different),
                false_hits=wrong,
            )
        )
    return results


# [end:false-hits]
