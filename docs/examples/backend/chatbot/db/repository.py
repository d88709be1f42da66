"""The queries the chat endpoint needs, written once."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatbot.db.models import Conversation, Message
from chatbot.providers import ChatMessage


async def get_or_create_conversation(
    session: AsyncSession, conversation_id: uuid.UUID | None, title: str
) -> Conversation:
    """The existing conversation, or a new one titled after the first message."""
    if conversation_id is not None:
        found = await session.get(Conversation, conversation_id)
        if found is not None:
            return found
    conversation = Conversation(id=conversation_id or uuid.uuid4(), title=title[:200])
    session.add(conversation)
    await session.flush()
    return conversation


async def recent_history(
    session: AsyncSession, conversation_id: uuid.UUID, limit: int
) -> list[ChatMessage]:
    """The last *limit* messages, oldest first, as provider input."""
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return [ChatMessage("user" if m.role == "user" else "assistant", m.content) for m in rows][::-1]
