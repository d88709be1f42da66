"""Object-level authorisation: who may read or continue which conversation.

Membership lives in its own table rather than an ``owner_id`` column so that sharing a
conversation with a colleague (role ``viewer``) is one more row, not a schema change.
Every check answers 404, never 403: a 403 would confirm that the id exists.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import DateTime, ForeignKey, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.db.models import Base, Conversation
from chatbot.deps import SessionDep
from chatbot.security.auth import CurrentUser


class ConversationMember(Base):
    __tablename__ = "conversation_members"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))  # "owner" | "viewer"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# [start:access]
async def member_role(
    session: AsyncSession, conversation_id: uuid.UUID, subject: str
) -> str | None:
    role = await session.scalar(
        select(ConversationMember.role).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.subject == subject,
        )
    )
    return role


async def readable_conversation(
    conversation_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> uuid.UUID:
    """The path's conversation id, if the caller is a member; 404 otherwise."""
    if await member_role(session, conversation_id, user.subject) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
    return conversation_id


class _Turn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    conversation_id: uuid.UUID | None = None
    message: str = ""


async def writable_conversation(
    request: Request, user: CurrentUser, session: SessionDep
) -> uuid.UUID:
    """The conversation a chat turn goes to: the caller's own, or a new one they own.

    Clients never mint conversation ids: an unknown id is a 404 like someone else's, so
    ids cannot be pre-claimed or probed. The body was already read by FastAPI (Starlette
    caches it), so reading it here costs a second parse of at most a few KB.
    """
    try:
        body = _Turn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid chat request") from exc
    if body.conversation_id is not None:
        if await member_role(session, body.conversation_id, user.subject) != "owner":
            raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
        return body.conversation_id
    conversation = Conversation(id=uuid.uuid4(), title=body.message[:200])
    session.add(conversation)
    await session.flush()  # the membership row's foreign key needs the conversation first
    session.add(
        ConversationMember(conversation_id=conversation.id, subject=user.subject, role="owner")
    )
    await session.commit()
    return conversation.id


ReadableConversation = Annotated[uuid.UUID, Depends(readable_conversation)]
WritableConversation = Annotated[uuid.UUID, Depends(writable_conversation)]
# [end:access]
