"""BM25 keyword search over chunks, in memory.

Production keyword search runs where the chunks live (PostgreSQL full text in
:mod:`chatbot.rag.pgvector_store`, or a ``full_text_search`` field in Pinecone); this
in-memory index gives tests and the evaluation harness the same ranking behaviour.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from chatbot.rag.models import Chunk, ScoredChunk
from chatbot.rag.vectorstore import Filter, matches

_STOPWORDS = "a an and are as at be by can do does for from how i in is it my of on or our the to"
_MORE = "we what when where which who why will with you your"
STOPWORDS = frozenset(f"{_STOPWORDS} {_MORE}".split(" "))


def terms(text: str) -> list[str]:
    """Lower-cased word tokens without stopwords; a trailing plural ``s`` is dropped."""
    out = []
    for word in re.findall(r"\w+", text.lower()):
        if word in STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


# [start:bm25]
class BM25Index:
    """Okapi BM25 with the usual ``k1=1.2, b=0.75``.

    Keyword search catches what embeddings blur: error codes (``E4012``), SKUs, API
    field names, people's names, and rare words the embedding model never saw in training.
    """

    def __init__(self, chunks: Sequence[Chunk], *, k1: float = 1.2, b: float = 0.75) -> None:
        self._chunks = list(chunks)
        self._k1, self._b = k1, b
        self._tf = [Counter(terms(c.text)) for c in self._chunks]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = sum(self._len) / len(self._len) if self._len else 0.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(self._chunks)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def search(
        self, query: str, *, top_k: int = 10, filter: Filter | None = None
    ) -> list[ScoredChunk]:
        """Best-scoring chunks first; chunks sharing no term with the query are left out."""
        query_terms = set(terms(query))
        hits: list[ScoredChunk] = []
        for chunk, tf, length in zip(self._chunks, self._tf, self._len, strict=True):
            if not matches({"doc_id": chunk.doc_id, **chunk.metadata}, filter):
                continue
            score = 0.0
            for term in query_terms & tf.keys():
                freq = tf[term]
                norm = self._k1 * (1 - self._b + self._b * length / (self._avg or 1.0))
                score += self._idf[term] * freq * (self._k1 + 1) / (freq + norm)
            if score > 0:
                hits.append(ScoredChunk(chunk, score, "keyword"))
        hits.sort(key=lambda hit: (-hit.score, hit.chunk.chunk_id))
        return hits[:top_k]


# [end:bm25]
