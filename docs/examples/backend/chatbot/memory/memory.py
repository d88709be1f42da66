"""Memory: what the model is reminded of beyond the turns that fit in its window.

Four kinds, each with its own store and refresh rule:

* short-term: the recent turns themselves (chosen by :mod:`chatbot.memory.context`);
* summary: a rolling summary of the turns that fell out of the window, refreshed in the
  background every few turns, never on the request path;
* entity: facts about the user and their world ("account 4411 is on the Business plan"),
  extracted as structured data, merged with provenance, shown as a short list;
* long-term / episodic: past exchanges and session summaries embedded in the RAG vector
  store under a per-user tenant key, retrieved by similarity to the new message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, Field, ValidationError

from chatbot.memory.conversation import Message
from chatbot.memory.tokens import TokenCounter
from chatbot.providers.base import LLMProvider
from chatbot.rag.embeddings import EmbeddingService
from chatbot.rag.models import Chunk, EmbeddedChunk
from chatbot.rag.retrieval import complete
from chatbot.rag.vectorstore import VectorStore

logger = logging.getLogger(__name__)


def _transcript(messages: Sequence[Message]) -> str:
    return "\n".join(f"{m.role.upper()}: {m.content}" for m in messages)


# [start:summary]
SUMMARY_PROMPT = """Update the running summary of a support conversation.

Keep: the user's goal, decisions made, facts the user gave (ids, names, numbers, dates,
preferences) verbatim, open questions, and what the assistant promised to do. Drop
greetings, pleasantries and anything already resolved. At most {max_words} words, plain
prose, third person.

Current summary:
{summary}

New messages:
{transcript}

Updated summary:"""


class SummaryGenerator:
    """Incremental summarisation: previous summary plus the newly evicted messages.

    Re-summarising the whole history every time costs O(n^2) tokens over a conversation;
    folding in only what fell out of the window keeps each call small and bounded.
    """

    def __init__(self, provider: LLMProvider, counter: TokenCounter, *, max_words: int = 200):
        self._provider = provider
        self._counter = counter
        self._max_words = max_words

    async def update(self, summary: str, evicted: Sequence[Message]) -> str:
        if not evicted:
            return summary
        prompt = SUMMARY_PROMPT.format(
            max_words=self._max_words,
            summary=summary or "(none yet)",
            transcript=_transcript(evicted),
        )
        text = await complete(
            self._provider, prompt, system="You summarise conversations.", max_tokens=400
        )
        words = text.strip().split()
        if not words:
            return summary  # a failed or empty summary must not erase the old one
        return " ".join(words[: self._max_words])


# [end:summary]


# [start:entities]
class Entity(BaseModel):
    """One fact about a named thing, as the extraction model must return it."""

    name: str = Field(min_length=1, max_length=80)
    kind: str = Field(pattern=r"^(person|organization|product|account|preference|other)$")
    fact: str = Field(min_length=1, max_length=200)


class Extraction(BaseModel):
    entities: list[Entity] = Field(default_factory=list, max_length=20)


ENTITY_PROMPT = """Extract facts the user stated about themselves, their organisation,
accounts, products and preferences. Only facts stated in the messages, never guesses.
Reply with JSON only: {{"entities": [{{"name": ..., "kind": one of person, organization,
product, account, preference, other, "fact": ...}}]}}. Reply {{"entities": []}} if none.

Messages:
{transcript}"""


class EntityExtractor:
    """LLM extraction with schema validation; malformed output yields nothing, not junk."""

    def __init__(self, provider: LLMProvider) -> None:
        self._provider = provider

    async def extract(self, messages: Sequence[Message]) -> list[Entity]:
        user_text = [m for m in messages if m.role == "user"]
        if not user_text:
            return []
        prompt = ENTITY_PROMPT.format(transcript=_transcript(user_text))
        raw = await complete(self._provider, prompt, system="You extract facts.", max_tokens=500)
        match = re.search(r"\{.*\}", raw, re.DOTALL)  # tolerate prose or fences around JSON
        if match is None:
            return []
        try:
            return Extraction.model_validate(json.loads(match.group(0))).entities
        except (json.JSONDecodeError, ValidationError) as exc:
            logger.info("entity extraction discarded: %s", type(exc).__name__)
            return []


@dataclass(slots=True)
class EntityRecord:
    entity: Entity
    source_message_id: int
    updated_at: datetime


@dataclass(slots=True)
class EntityStore:
    """Latest fact per (kind, name) per user; newer statements replace older ones."""

    max_entities: int = 50
    _items: dict[str, dict[tuple[str, str], EntityRecord]] = field(default_factory=dict)

    def merge(self, user_id: str, entities: Sequence[Entity], *, source_message_id: int) -> None:
        bucket = self._items.setdefault(user_id, {})
        now = datetime.now(UTC)
        for entity in entities:
            key = (entity.kind, entity.name.strip().lower())
            bucket[key] = EntityRecord(entity, source_message_id, now)
        if len(bucket) > self.max_entities:
            oldest = sorted(bucket, key=lambda k: bucket[k].updated_at)
            for key in oldest[: len(bucket) - self.max_entities]:
                del bucket[key]

    def facts(self, user_id: str) -> list[str]:
        records = sorted(self._items.get(user_id, {}).values(), key=lambda r: r.updated_at)
        return [f"{r.entity.name} ({r.entity.kind}): {r.entity.fact}" for r in records]

    def forget(self, user_id: str) -> None:
        """Erasure: the user asked us to forget them."""
        self._items.pop(user_id, None)


# [end:entities]


# [start:long-term]
class LongTermMemory:
    """Past exchanges and session summaries in the vector store, one tenant key per user.

    Reusing the RAG store means one index to operate; the ``mem:`` tenant prefix keeps a
    user's memories out of document search and out of every other user's results.
    """

    def __init__(self, embeddings: EmbeddingService, store: VectorStore) -> None:
        self._embeddings = embeddings
        self._store = store

    @staticmethod
    def tenant(user_id: str) -> str:
        return f"mem:{user_id}"

    async def remember(self, user_id: str, key: str, text: str, *, kind: str) -> None:
        """Store one memory; ``key`` is stable so re-remembering overwrites."""
        chunk = Chunk(
            key, self.tenant(user_id), 0, text, 0, len(text),
            {"kind": kind, "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
        )  # fmt: skip
        [vector] = await self._embeddings.embed([text])
        item = EmbeddedChunk(chunk, vector, self._embeddings.embedder.model)
        await self._store.upsert(self.tenant(user_id), [item])

    async def recall(
        self, user_id: str, query: str, *, top_k: int = 3, min_score: float = 0.3
    ) -> list[str]:
        [vector] = await self._embeddings.embed([query])
        hits = await self._store.query(self.tenant(user_id), vector, top_k=top_k)
        # Dated, so the model can tell an old memory from a newer stated fact.
        return [
            f"[{str(h.chunk.metadata.get('at', ''))[:10]}] {h.chunk.text}"
            for h in hits
            if h.score >= min_score
        ]


# [end:long-term]


# [start:manager]
@dataclass(frozen=True, slots=True)
class MemoryContext:
    """What goes into the system prompt besides instructions."""

    summary: str
    facts: list[str]
    recalled: list[str]

    def render(self) -> str:
        parts = []
        if self.facts:
            parts.append("Known facts about the user:\n" + "\n".join(f"- {f}" for f in self.facts))
        if self.summary:
            parts.append("Earlier in this conversation: " + self.summary)
        if self.recalled:
            lines = "\n".join(f"- {r}" for r in self.recalled)
            parts.append("From previous conversations (may be outdated):\n" + lines)
        return "\n\n".join(parts)


class MemoryManager:
    """Reads memory for a turn; folds evicted messages into memory after it."""

    def __init__(
        self,
        summaries: SummaryGenerator,
        extractor: EntityExtractor,
        entities: EntityStore,
        long_term: LongTermMemory,
        counter: TokenCounter,
        *,
        max_memory_tokens: int = 1200,
    ) -> None:
        self._summaries = summaries
        self._extractor = extractor
        self._entities = entities
        self._long_term = long_term
        self._counter = counter
        self._max_tokens = max_memory_tokens

    async def read(self, *, user_id: str, summary: str, query: str) -> MemoryContext:
        """Memory for the next request, trimmed to ``max_memory_tokens``."""
        facts = self._entities.facts(user_id)
        recalled = await self._long_term.recall(user_id, query)
        context = MemoryContext(summary, facts, recalled)
        while self._counter.count(context.render()) > self._max_tokens:
            if context.recalled:
                context = MemoryContext(summary, facts, context.recalled[:-1])
            elif context.facts:
                context = MemoryContext(summary, context.facts[1:], [])  # oldest facts first
            else:
                context = MemoryContext(" ".join(summary.split()[:150]), [], [])
                break
        return context

    async def absorb(
        self, *, user_id: str, conversation_id: str, summary: str, evicted: Sequence[Message]
    ) -> str:
        """After a turn: summarise what left the window, extract facts, archive it.

        Run it from a background task; its LLM calls must not delay the reply.
        """
        if not evicted:
            return summary
        new_summary = await self._summaries.update(summary, evicted)
        entities = await self._extractor.extract(evicted)
        self._entities.merge(user_id, entities, source_message_id=evicted[-1].id)
        key = f"{conversation_id}:{evicted[0].id}-{evicted[-1].id}"
        await self._long_term.remember(user_id, key, _transcript(evicted), kind="exchange")
        return new_summary


# [end:manager]
