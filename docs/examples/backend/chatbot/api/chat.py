"""The chat endpoint: the assistant's reply as Server-Sent Events over POST."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import aclosing
from dataclasses import asdict

import anyio
from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatbot.architecture.events import TurnCompleted
from chatbot.db.models import Message
from chatbot.db.repository import get_or_create_conversation, recent_history
from chatbot.deps import ProviderDep, RateLimited, SessionFactoryDep, SettingsDep
from chatbot.providers import ChatMessage, Finish, LLMProvider, ProviderError, TextDelta
from chatbot.security.access import WritableConversation
from chatbot.security.auth import CurrentUser
from chatbot.settings import Settings
from chatbot.streaming.budget import TokenBudget, tenant_of
from chatbot.streaming.replay import TERMINAL, BufferedEvent
from chatbot.streaming.turns import TurnServicesDep, buffered

router = APIRouter(prefix="/v1", tags=["chat"])


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    conversation_id: uuid.UUID | None = None


CUT_OFF = json.dumps({"code": "stream_cut_off", "retryable": True})


# [start:chat-stream]
@router.post("/chat/stream", response_class=EventSourceResponse, dependencies=[RateLimited])
async def chat_stream(
    body: ChatRequest,
    conversation_id: WritableConversation,  # the caller's own conversation, or a new one
    user: CurrentUser,
    budget: TokenBudget,
    settings: SettingsDep,
    provider: ProviderDep,
    sessions: SessionFactoryDep,
    turns: TurnServicesDep,
) -> AsyncIterable[ServerSentEvent]:
    """Events: ``meta``, then ``token`` per chunk, then ``done``, or ``error``.

    FastAPI adds ``: ping`` comments while the model is silent, so proxies keep the
    connection open. Every event carries an increasing ``id`` and is copied to the
    replay buffer, from which ``GET /v1/conversations/{id}/stream`` resumes a client.
    """
    key, started = str(conversation_id), time.monotonic()
    await turns.begin(key, user.subject)
    last_id, first_token_ms = 0, 0
    finish: ServerSentEvent | None = None
    events = turn_events(body, conversation_id, settings, provider, sessions)
    try:
        async with aclosing(events):  # the client left: close the turn, and the provider
            async for event in events:
                record = buffered(event)
                await turns.replay.append(key, record)  # before the client sees it
                last_id = record.id
                if event.event == "token" and not first_token_ms:
                    first_token_ms = int((time.monotonic() - started) * 1000)
                if event.event in TERMINAL:
                    finish = event
                # Encode once: the buffered JSON text goes out as is, byte for byte.
                yield event.model_copy(update={"data": None, "raw_data": record.data})
    finally:
        if finish is None:  # cut off: followers on other pods must not wait for more
            with anyio.CancelScope(shield=True):
                await turns.replay.append(key, BufferedEvent(last_id + 1, "error", CUT_OFF))
    if finish is None:
        return  # a client that leaves pays the reserved worst case: no refund
    if finish.event == "error":
        await budget.settle(0)  # the provider failed: give the reservation back
        return
    usage = finish.data["usage"] or {}
    await budget.settle(usage.get("input_tokens", 0) + usage.get("output_tokens", 0))
    completed = TurnCompleted(
        conversation_id=key,
        tenant_id=tenant_of(user),
        model=settings.chat_model or provider.name,
        input_tokens=usage.get("input_tokens", 0),
        output_tokens=usage.get("output_tokens", 0),
        time_to_first_token_ms=first_token_ms,
        finish_reason=finish.data["finish_reason"],
    )
    opening = body.message if body.conversation_id is None else None
    turns.after_turn(completed, opening=opening)


# [end:chat-stream]


# [start:turn-events]
async def turn_events(
    body: ChatRequest,
    conversation_id: uuid.UUID,
    settings: Settings,
    provider: LLMProvider,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncGenerator[ServerSentEvent]:
    """One turn as SSE events: save the question, stream the answer, save the answer."""
    async with sessions() as session:
        conversation = await get_or_create_conversation(
            session, conversation_id, title=body.message
        )
        history = await recent_history(session, conversation.id, settings.history_limit)
        session.add(Message(conversation_id=conversation.id, role="user", content=body.message))
        await session.commit()
    history.append(ChatMessage("user", body.message))

    ids = (str(n) for n in itertools.count(1))
    meta = {"conversation_id": str(conversation.id)}
    yield ServerSentEvent(event="meta", data=meta, id=next(ids), retry=settings.sse_retry_ms)

    reply: list[str] = []
    outcome = "cancelled"  # stays so if the client disconnects mid-stream
    finish: Finish | None = None
    try:
        events = provider.stream(
            history, system=settings.system_prompt, max_output_tokens=settings.max_output_tokens
        )
        async with aclosing(events):  # leaving early closes the upstream stream too
            async for event in events:
                if isinstance(event, TextDelta):
                    reply.append(event.text)
                    yield ServerSentEvent(event="token", data={"delta": event.text}, id=next(ids))
                elif isinstance(event, Finish):
                    finish = event
                    outcome = event.reason
    except ProviderError as exc:
        outcome = "error"
        error = {"code": exc.code, "retryable": exc.retryable}
        yield ServerSentEvent(event="error", data=error, id=next(ids))
    finally:
        # A disconnect cancels this generator; the shield lets the partial reply be saved.
        with anyio.CancelScope(shield=True):
            await _save_reply(sessions, conversation.id, "".join(reply), outcome, finish)
    if finish is not None:
        usage = asdict(finish.usage) if finish.usage else None
        done = {"finish_reason": finish.reason, "usage": usage}
        yield ServerSentEvent(event="done", data=done, id=next(ids))


# [end:turn-events]


async def _save_reply(
    sessions: async_sessionmaker[AsyncSession],
    conversation_id: uuid.UUID,
    content: str,
    outcome: str,
    finish: Finish | None,
) -> None:
    usage = finish.usage if finish else None
    async with sessions() as session:
        session.add(
            Message(
                conversation_id=conversation_id,
                role="assistant",
                content=content,
                finish_reason=outcome,
                input_tokens=usage.input_tokens if usage else None,
                output_tokens=usage.output_tokens if usage else None,
            )
        )
        await session.commit()
