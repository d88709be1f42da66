"""Task definitions: a title chain after the first turn, and a scheduled retention purge.

Celery 5 workers run plain functions, so each task opens an event loop with
``asyncio.run`` for the async database and provider code. Every call gets its own
engine with ``NullPool``: an asyncpg connection belongs to the loop that opened it and
must not be reused by the next task's loop.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import aclosing, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from celery import Task, chain
from celery.canvas import Signature
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from chatbot.db.conversations import ConversationRepository
from chatbot.providers import (
    ChatMessage,
    ProviderRateLimited,
    ProviderUnavailable,
    TextDelta,
    build_provider,
)
from chatbot.settings import Settings
from chatbot.tasks.celery_app import ChatbotCelery

T = TypeVar("T")
TITLE_WORDS = 6

TITLE_PROMPT = (
    "Write a title of at most {words} words for the conversation the user shows you. "
    "Answer with the title only."
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """One event loop per task call; the worker process has no loop of its own."""
    return asyncio.run(coro)


@asynccontextmanager
async def repository(settings: Settings) -> AsyncIterator[ConversationRepository]:
    """A repository in one transaction, on an engine that lives as long as the call."""
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            yield ConversationRepository(session)
    finally:
        await engine.dispose()


def clean_title(text: str, max_words: int) -> str:
    words = re.sub(r"[\"'`*#]", "", text).split()
    return " ".join(words[:max_words]).rstrip(".:;,") or "New conversation"


# [start:tasks]
def register(app: ChatbotCelery) -> None:
    """Define the tasks on *app*; names are the contract the API publishes against."""

    @app.task(name="chatbot.load_transcript", shared=False)
    def load_transcript(conversation_id: str) -> list[dict[str, str]]:
        async def load() -> list[dict[str, str]]:
            async with repository(app.settings) as repo:
                messages = await repo.transcript(uuid.UUID(conversation_id), limit=4)
            return [{"role": m.role, "content": m.content[:2000]} for m in messages]

        return run(load())

    @app.task(
        bind=True,
        name="chatbot.summarize",
        shared=False,  # per app: tasks read this app's settings
        # Provider outages and 429s are worth retrying later; anything else is a bug.
        autoretry_for=(ProviderUnavailable, ProviderRateLimited),
        retry_backoff=5,  # 5 s, 10 s, 20 s ... with full jitter
        retry_backoff_max=300,
        retry_jitter=True,
        max_retries=5,
        rate_limit="60/m",  # per worker: keeps background work inside the provider quota
    )
    def summarize(
        self: Task, transcript: list[dict[str, str]], max_words: int = TITLE_WORDS
    ) -> str:
        text = "\n".join(f"{m['role']}: {m['content']}" for m in transcript)

        async def ask() -> str:
            provider = build_provider(app.settings)
            parts: list[str] = []
            try:
                events = provider.stream(
                    [ChatMessage("user", text)],
                    system=TITLE_PROMPT.format(words=max_words),
                    max_output_tokens=32,
                )
                async with aclosing(events):
                    async for event in events:
                        if isinstance(event, TextDelta):
                            parts.append(event.text)
            finally:
                await provider.aclose()
            return clean_title("".join(parts), max_words)

        return run(ask())

    @app.task(name="chatbot.save_title", shared=False)
    def save_title(title: str, conversation_id: str) -> bool:
        async def save() -> bool:
            async with repository(app.settings) as repo:
                return await repo.replace_default_title(uuid.UUID(conversation_id), title)

        return run(save())

    @app.task(name="chatbot.purge_expired_conversations", shared=False)
    def purge_expired_conversations(retention_days: int, batch: int = 500) -> int:
        """Delete conversations idle for *retention_days*, *batch* per transaction."""

        async def purge() -> int:
            cutoff = datetime.now(UTC) - timedelta(days=retention_days)
            total = 0
            while True:  # short transactions: no lock is held for the whole purge
                async with repository(app.settings) as repo:
                    ids = await repo.inactive_since(cutoff, limit=batch)
                    total += await repo.delete(ids)
                if len(ids) < batch:
                    return total

        return run(purge())


# [end:tasks]


# [start:chain]
def title_chain(app: ChatbotCelery, conversation_id: str) -> Signature:
    """load -> summarize -> save: each step retries alone, and only one calls the model.

    Built from task names, so the API can publish it without importing worker code.
    """
    return chain(
        app.signature("chatbot.load_transcript", args=(conversation_id,)),
        app.signature("chatbot.summarize", kwargs={"max_words": TITLE_WORDS}),
        app.signature("chatbot.save_title", args=(conversation_id,)),
    )


# [end:chain]
