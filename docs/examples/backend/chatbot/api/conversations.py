"""Read back a stored conversation."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict

from chatbot.db.conversations import ConversationRepository
from chatbot.db.models import Conversation
from chatbot.deps import SessionDep
from chatbot.security.access import ReadableConversation

router = APIRouter(prefix="/v1", tags=["conversations"])


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    role: str
    content: str
    finish_reason: str | None
    created_at: datetime


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    messages: list[MessageOut]


@router.get("/conversations/{conversation_id}")
async def get_conversation(
    conversation_id: ReadableConversation, session: SessionDep
) -> ConversationOut:
    """The conversation with its messages, oldest first."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
    messages = await ConversationRepository(session).messages(conversation_id)
    return ConversationOut(
        id=conversation.id,
        title=conversation.title,
        messages=[MessageOut.model_validate(m) for m in messages],
    )
