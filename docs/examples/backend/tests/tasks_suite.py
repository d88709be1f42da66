"""Background work: Celery configuration, the title chain and the retention purge run
eagerly, then the API publishing to a real Redis broker that an embedded worker consumes.

``tests/examples/test_backend_tasks.py`` runs this suite with the examples' fixtures.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from wire import parse_sse

from chatbot.app import create_app
from chatbot.db.conversations import ConversationRepository
from chatbot.db.models import Conversation, Message
from chatbot.db.session import create_schema, make_engine, make_sessionmaker
from chatbot.providers import (
    ChatMessage,
    LLMProvider,
    ProviderUnavailable,
    StreamEvent,
    ToolSpec,
)
from chatbot.providers.fake import FakeProvider
from chatbot.settings import Settings
from chatbot.tasks import jobs
from chatbot.tasks.celery_app import make_celery
from chatbot.tasks.jobs import clean_title, title_chain
from chatbot.tasks.queue import queue_depths

OPENING = "How do I rotate the API keys of our staging workspace without downtime?"


def seed(settings: Settings, *, title: str | None = None) -> str:
    """A conversation with its first turn, as the chat endpoint stores it."""

    async def run() -> str:
        engine = make_engine(settings.database_url)
        await create_schema(engine)
        conversation_id = uuid.uuid4()
        async with make_sessionmaker(engine)() as session, session.begin():
            session.add(Conversation(id=conversation_id, title=title or OPENING[:200]))
            repo = ConversationRepository(session)
            await repo.add_message(conversation_id, "user", OPENING)
            await repo.add_message(conversation_id, "assistant", "Create a second key first.")
        await engine.dispose()
        return str(conversation_id)

    return asyncio.run(run())


def title_of(settings: Settings, conversation_id: str) -> str:
    async def run() -> str:
        engine = make_engine(settings.database_url)
        async with make_sessionmaker(engine)() as session:
            title = await session.scalar(
                select(Conversation.title).where(Conversation.id == uuid.UUID(conversation_id))
            )
        await engine.dispose()
        return str(title)

    return asyncio.run(run())


# [start:config-test]
def test_the_configuration_favours_redelivery_over_loss(settings: Settings) -> None:
    conf = make_celery(settings).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    # A task still running when the visibility timeout passes would be delivered twice.
    assert conf.broker_transport_options["visibility_timeout"] > 10 * conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    purge = conf.beat_schedule["purge-expired-conversations"]
    assert purge["schedule"] == crontab(hour=3, minute=17)
    assert conf.task_routes["chatbot.summarize"] == {"queue": "llm"}


# [end:config-test]


# [start:eager-test]
def test_the_title_chain_runs_step_by_step_and_is_idempotent(settings: Settings) -> None:
    app = make_celery(settings)
    conversation = seed(settings)
    result = title_chain(app, conversation).apply()  # eager: in this process, in order
    assert result.get() is True
    expected = clean_title(f"Hello! You said: user: {OPENING}", 6)
    assert title_of(settings, conversation) == expected
    assert title_chain(app, conversation).apply().get() is False  # a duplicate changes nothing


# [end:eager-test]


def test_a_title_someone_changed_is_never_overwritten(settings: Settings) -> None:
    conversation = seed(settings, title="Key rotation plan")
    assert title_chain(make_celery(settings), conversation).apply().get() is False
    assert title_of(settings, conversation) == "Key rotation plan"


class FlakyOnce(LLMProvider):
    """Fails the first call with a retryable error, then behaves like the fake."""

    name = "flaky"
    calls = 0

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
        **_: Any,
    ) -> AsyncGenerator[StreamEvent]:
        FlakyOnce.calls += 1
        if FlakyOnce.calls == 1:
            raise ProviderUnavailable("overloaded", provider=self.name, status_code=529)
        async for event in FakeProvider().stream(messages, system=system):
            yield event


def test_a_provider_outage_is_retried_not_lost(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "build_provider", lambda _settings: FlakyOnce())
    FlakyOnce.calls = 0
    app = make_celery(settings)
    result = app.tasks["chatbot.summarize"].apply(args=([{"role": "user", "content": "x y"}],))
    assert result.successful()
    assert FlakyOnce.calls == 2


def test_the_purge_deletes_idle_conversations_in_batches(settings: Settings) -> None:
    idle = [seed(settings) for _ in range(3)]
    active = seed(settings)

    async def age() -> None:
        engine = make_engine(settings.database_url)
        long_ago = datetime.now(UTC) - timedelta(days=400)
        ids = [uuid.UUID(c) for c in idle]
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                update(Conversation).where(Conversation.id.in_(ids)).values(created_at=long_ago)
            )
            await session.execute(
                update(Message).where(Message.conversation_id.in_(ids)).values(created_at=long_ago)
            )
        await engine.dispose()

    asyncio.run(age())
    purge = make_celery(settings).tasks["chatbot.purge_expired_conversations"]
    assert purge.apply(kwargs={"retention_days": 365, "batch": 2}).get() == 3
    assert title_of(settings, active) == OPENING[:200]
    assert title_of(settings, idle[0]) == "None"


# --- a real broker ------------------------------------------------------------------------


@contextmanager
def root_logging_kept() -> Iterator[None]:
    """The embedded worker sets the root logger to ERROR with its own handler; undo it,
    or every later test in the process loses its warnings."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


# [start:broker-test]
def test_the_api_publishes_and_a_worker_consumes_through_redis(
    settings: Settings, redis_url: str
) -> None:
    configured = settings.model_copy(
        update={"celery_broker_url": redis_url, "celery_result_backend": redis_url}
    )
    worker_app = make_celery(configured)  # what `celery -A chatbot.tasks.worker` runs
    with (
        root_logging_kept(),
        start_worker(worker_app, queues=["default", "llm"], perform_ping_check=False),
        TestClient(create_app(configured)) as client,
    ):
        events, _ = parse_sse(client.post("/v1/chat/stream", json={"message": OPENING}).text)
        conversation = events[0].json()["conversation_id"]
        deadline = time.monotonic() + 20
        while (title := client.get(f"/v1/conversations/{conversation}").json()["title"]) == (
            OPENING
        ):
            assert time.monotonic() < deadline, "the worker never set the title"
            time.sleep(0.1)
    assert title == clean_title(f"Hello! You said: user: {OPENING} assistant: ", 6)


# [end:broker-test]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_queue_depth_counts_what_no_worker_has_taken(
    settings: Settings, redis_url: str, anyio_backend: str, tmp_path: Path
) -> None:
    app = make_celery(settings.model_copy(update={"celery_broker_url": redis_url}))
    for _ in range(3):
        await asyncio.to_thread(title_chain(app, str(uuid.uuid4())).apply_async)
    client = aioredis.from_url(redis_url)
    try:
        assert await queue_depths(client, ["default", "llm"]) == {"default": 3, "llm": 0}
    finally:
        await client.aclose()
    app.close()
