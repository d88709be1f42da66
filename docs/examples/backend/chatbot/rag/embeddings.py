"""Embedding models behind one interface, and the batched, cached embedding service.

The service is what the rest of the code calls. It removes duplicates, answers what it can
from the cache, packs the rest into batches that respect both the provider's item limit and
its token limit, runs a bounded number of batches at once, and writes the results back to
the cache. The cache key includes the model *and* the dimension, because a vector from
another model, or the same model truncated to another size, is silently wrong rather than
an error when compared.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import struct
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import redis.asyncio as redis
from openai import AsyncOpenAI

from chatbot.rag.chunking import LengthFn, approx_tokens


# [start:embedder]
class Embedder(Protocol):
    """A model that maps texts to fixed-size vectors."""

    model: str
    dimension: int
    max_batch: int

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order. Callers never send more than ``max_batch``."""
        ...


class OpenAIEmbedder:
    """``client.embeddings.create`` with the model and dimension from settings.

    ``text-embedding-3-*`` models accept ``dimensions=`` and return vectors truncated
    and renormalised to that size: 512 or 1024 dimensions keep most of the retrieval
    quality of the full 1536/3072 at a third of the storage and index memory.
    """

    max_batch = 512  # the API accepts up to 2,048 inputs; smaller requests retry cheaper

    def __init__(self, client: AsyncOpenAI, *, model: str, dimension: int) -> None:
        self._client = client
        self.model = model
        self.dimension = dimension

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        response = await self._client.embeddings.create(
            model=self.model,
            input=list(texts),
            dimensions=self.dimension,
            encoding_format="float",
        )
        ordered = sorted(response.data, key=lambda item: item.index)
        return [list(item.embedding) for item in ordered]


# [end:embedder]


# [start:hashing]
@dataclass(slots=True)
class HashingEmbedder:
    """Deterministic, local, dependency-free: word and character-trigram feature hashing.

    Not a semantic model: it finds shared words and word pieces, nothing more. Tests and
    offline demos use it because the same text always gives the same vector.
    """

    dimension: int = 256
    model: str = "hashing-v1"
    max_batch: int = 1024
    calls: int = field(default=0, init=False)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        """The vector of one text, L2-normalised."""
        values = [0.0] * self.dimension
        for word in re.findall(r"\w+", text.lower()):
            features = [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]
            for feature in features:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                bucket, sign = struct.unpack("<IxxxB", digest)
                values[bucket % self.dimension] += 1.0 if sign & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return [v / norm for v in values]


# [end:hashing]


# [start:cache]
class EmbeddingCache(Protocol):
    """Vectors by key; a miss returns ``None``."""

    async def get_many(self, keys: Sequence[str]) -> list[list[float] | None]: ...

    async def set_many(self, items: dict[str, list[float]]) -> None: ...


class LRUEmbeddingCache:
    """In-process cache: the first tier, free, lost on restart."""

    def __init__(self, max_items: int = 50_000) -> None:
        self._items: OrderedDict[str, list[float]] = OrderedDict()
        self._max = max_items

    async def get_many(self, keys: Sequence[str]) -> list[list[float] | None]:
        out: list[list[float] | None] = []
        for key in keys:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            out.append(value)
        return out

    async def set_many(self, items: dict[str, list[float]]) -> None:
        self._items.update(items)
        while len(self._items) > self._max:
            self._items.popitem(last=False)


class RedisEmbeddingCache:
    """Shared cache: float32 bytes under ``emb:<key>``, expiring after ``ttl_s``.

    Packed float32 is 4 bytes per dimension (6 KiB for 1,536 dimensions) against roughly
    20 bytes per dimension for JSON, and needs no parsing. Requires a client created
    with ``decode_responses=False``.
    """

    def __init__(self, client: redis.Redis, *, ttl_s: int = 30 * 24 * 3600) -> None:
        self._client = client
        self._ttl = ttl_s

    async def get_many(self, keys: Sequence[str]) -> list[list[float] | None]:
        if not keys:
            return []
        raw = await self._client.mget([f"emb:{k}" for k in keys])
        return [None if blob is None else _unpack(blob) for blob in raw]

    async def set_many(self, items: dict[str, list[float]]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for key, vector in items.items():
                pipe.set(f"emb:{key}", struct.pack(f"<{len(vector)}f", *vector), ex=self._ttl)
            await pipe.execute()


def _unpack(blob: bytes | str) -> list[float]:
    if isinstance(blob, str):
        msg = "RedisEmbeddingCache needs a client created with decode_responses=False"
        raise TypeError(msg)
    return list(struct.unpack(f"<{len(blob) // 4}f", blob))


# [end:cache]


# [start:service]
@dataclass(frozen=True, slots=True)
class EmbeddingStats:
    """What one :meth:`EmbeddingService.embed` call did."""

    requested: int
    unique: int
    cache_hits: int
    batches: int


class EmbeddingService:
    """Deduplicate, hit the cache, batch by items and tokens, bound concurrency."""

    def __init__(
        self,
        embedder: Embedder,
        cache: EmbeddingCache | None = None,
        *,
        max_batch_tokens: int = 100_000,
        max_concurrency: int = 4,
        length: LengthFn = approx_tokens,
    ) -> None:
        self.embedder = embedder
        self._cache = cache or LRUEmbeddingCache()
        self._max_batch_tokens = max_batch_tokens
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._length = length
        self.last_stats = EmbeddingStats(0, 0, 0, 0)
        self.embedded_total = 0

    def key(self, text: str) -> str:
        """Cache key: model, dimension and the exact text."""
        model = f"{self.embedder.model}:{self.embedder.dimension}"
        return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per input text, in input order."""
        unique = list(dict.fromkeys(texts))
        keys = [self.key(t) for t in unique]
        cached = await self._cache.get_many(keys)
        vectors = dict(zip(unique, cached, strict=True))
        missing = [t for t in unique if vectors[t] is None]
        batches = self._batches(missing)
        results = await asyncio.gather(*(self._run(batch) for batch in batches))
        fresh: dict[str, list[float]] = {}
        for batch, batch_vectors in zip(batches, results, strict=True):
            for text, vector in zip(batch, batch_vectors, strict=True):
                if len(vector) != self.embedder.dimension:
                    msg = f"{self.embedder.model} returned {len(vector)} dims, expected "
                    raise ValueError(msg + str(self.embedder.dimension))
                vectors[text] = vector
                fresh[self.key(text)] = vector
        if fresh:
            await self._cache.set_many(fresh)
        self.embedded_total += len(missing)
        self.last_stats = EmbeddingStats(
            len(texts), len(unique), len(unique) - len(missing), len(batches)
        )
        return [v for v in (vectors[t] for t in texts) if v is not None]

    def _batches(self, texts: list[str]) -> list[list[str]]:
        batches: list[list[str]] = []
        current: list[str] = []
        tokens = 0
        for text in texts:
            cost = self._length(text)
            full = len(current) >= self.embedder.max_batch
            if current and (full or tokens + cost > self._max_batch_tokens):
                batches.append(current)
                current, tokens = [], 0
            current.append(text)
            tokens += cost
        if current:
            batches.append(current)
        return batches

    async def _run(self, batch: list[str]) -> list[list[float]]:
        async with self._semaphore:
            return await self.embedder.embed(batch)


# [end:service]
