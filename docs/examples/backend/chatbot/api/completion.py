"""The chat completion endpoint: one JSON reply, for callers that cannot read a stream."""

from __future__ import annotations

import time
import uuid
from contextlib import aclosing
from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel

from chatbot.api.chat import ChatRequest
from chatbot.architecture.events import TurnCompleted
from chatbot.db.conversations import ConversationRepository
from chatbot.deps import ProviderDep, RateLimited, SessionFactoryDep, SettingsDep
from chatbot.providers import ChatMessage, Finish, ProviderError, TextDelta
from chatbot.security.access import WritableConversation
from chatbot.security.auth import CurrentUser
from chatbot.streaming.budget import TokenBudget, tenant_of
from chatbot.streaming.turns import TurnServicesDep

router = APIRouter(prefix="/v1", tags=["chat"])


class AssistantReply(BaseModel):
    conversation_id: uuid.UUID
    message_id: int
    content: str
    finish_reason: str
    usage: dict[str, int] | None


# [start:completion]
@router.post(
    "/chat",
    dependencies=[RateLimited],
    responses={
        502: {"description": "The model rejected the request"},
        503: {"description": "The model is unavailable; retry after Retry-After seconds"},
    },
)
async def chat_completion(
    body: ChatRequest,
    conversation_id: WritableConversation,
    user: CurrentUser,
    budget: TokenBudget,
    settings: SettingsDep,
    provider: ProviderDep,
    sessions: SessionFactoryDep,
    turns: TurnServicesDep,
) -> AssistantReply:
    """The whole reply at once: for webhooks, batch jobs and other services.

    Two short transactions, none around the model call: a transaction held open for
    the 5 to 30 s a reply takes would pin a pooled connection for all that time.
    """
    async with sessions() as session, session.begin():
        repo = ConversationRepository(session)
        history = await repo.recent_history(conversation_id, settings.history_limit)
        await repo.add_message(conversation_id, "user", body.message)
    history.append(ChatMessage("user", body.message))

    parts: list[str] = []
    finish: Finish | None = None
    started, first_token_ms = time.monotonic(), 0
    try:
        events = provider.stream(
            history, system=settings.system_prompt, max_output_tokens=settings.max_output_tokens
        )
        async with aclosing(events):
            async for event in events:
                if isinstance(event, TextDelta):
                    first_token_ms = first_token_ms or int((time.monotonic() - started) * 1000)
                    parts.append(event.text)
                elif isinstance(event, Finish):
                    finish = event
    except ProviderError:
        async with sessions() as session, session.begin():
            await ConversationRepository(session).add_message(
                conversation_id, "assistant", "".join(parts), finish_reason="error"
            )
        await budget.settle(0)
        raise  # the exception handler answers 503 or 502 (chatbot.middleware.errors)
    reason = finish.reason if finish else "stop"
    usage = finish.usage if finish else None
    async with sessions() as session, session.begin():
        message = await ConversationRepository(session).add_message(
            conversation_id, "assistant", "".join(parts), finish_reason=reason, usage=usage
        )
    await budget.settle(usage.input_tokens + usage.output_tokens if usage else 0)
    completed = TurnCompleted(
        conversation_id=str(conversation_id),
        tenant_id=tenant_of(user),
        model=settings.chat_model or provider.name,
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        time_to_first_token_ms=first_token_ms,
        finish_reason=reason,
    )
    opening = body.message if body.conversation_id is None else None
    turns.after_turn(completed, opening=opening)
    return AssistantReply(
        conversation_id=conversation_id,
        message_id=message.id,
        content=message.content,
        finish_reason=reason,
        usage=asdict(usage) if usage else None,
    )


# [end:completion]
