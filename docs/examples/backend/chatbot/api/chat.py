"""The chat endpoint: the assistant's reply as Server-Sent Events over POST."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterable
from contextlib import aclosing
from dataclasses import asdict

import anyio
from fastapi import APIRouter
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatbot.db.models import Message
from chatbot.db.repository import get_or_create_conversation, recent_history
from chatbot.deps import ProviderDep, RateLimited, SessionFactoryDep, SettingsDep
from chatbot.providers import ChatMessage, Finish, ProviderError, TextDelta
from chatbot.security.access import WritableConversation

router = APIRouter(prefix="/v1", tags=["chat"])


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    conversation_id: uuid.UUID | None = None


# [start:chat-stream]
@router.post("/chat/stream", response_class=EventSourceResponse, dependencies=[RateLimited])
async def chat_stream(
    body: ChatRequest,
    conversation_id: WritableConversation,  # the caller's own conversation, or a new one
    settings: SettingsDep,
    provider: ProviderDep,
    sessions: SessionFactoryDep,
) -> AsyncIterable[ServerSentEvent]:
    """Events: ``meta``, then ``token`` per chunk, then ``done``, or ``error``.

    FastAPI adds ``: ping`` comments while the model is silent, so proxies keep the
    connection open. Every event carries an increasing ``id``.
    """
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


# [end:chat-stream]


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
