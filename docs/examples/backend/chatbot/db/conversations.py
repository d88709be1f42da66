"""The conversation repository: every query the API and the workers run, in one class.

Endpoints and tasks receive a repository bound to a session; they never build SQL. The
caller owns the transaction (``async with session.begin():``), so several repository
calls commit or roll back together.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatbot.db.models import Conversation, Message
from chatbot.providers import ChatMessage, Usage
from chatbot.security.access import ConversationMember

# The conversation list reads max(messages.id) per conversation: with (conversation_id, id)
# PostgreSQL answers from the index alone. Created by migration 0003, concurrently.
Index("ix_messages_conversation_id_id", Message.conversation_id, Message.id)


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: uuid.UUID
    title: str
    last_message_id: int


@dataclass(frozen=True, slots=True)
class Page:
    items: list[ConversationSummary]
    next_cursor: str | None


def encode_cursor(last_message_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_message_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Raise ``ValueError`` for anything a client did not get from us."""
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(padded.encode()).decode())


# [start:repository]
class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def recent_history(self, conversation_id: uuid.UUID, limit: int) -> list[ChatMessage]:
        """The last *limit* messages, oldest first, as provider input."""
        rows = await self.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        return [ChatMessage("user" if m.role == "user" else "assistant", m.content) for m in rows][
            ::-1
        ]

    async def messages(self, conversation_id: uuid.UUID) -> list[Message]:
        """Every message of the conversation, oldest first."""
        rows = await self.session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return list(rows)

    async def add_message(
        self,
        conversation_id: uuid.UUID,
        role: str,
        content: str,
        *,
        finish_reason: str | None = None,
        usage: Usage | None = None,
    ) -> Message:
        message = Message(
            conversation_id=conversation_id,
            role=role,
            content=content,
            finish_reason=finish_reason,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
        )
        self.session.add(message)
        await self.session.flush()  # assigns message.id inside the caller's transaction
        return message

    async def page_for(self, subject: str, *, limit: int, cursor: str | None) -> Page:
        """The caller's conversations, most recently active first.

        Keyset pagination on the newest message id: unique, so no ties, and a new
        message moves its conversation to the top without shifting later pages.
        """
        last_id = func.max(Message.id).label("last_id")
        query = (
            select(Conversation.id, Conversation.title, last_id)
            .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(ConversationMember.subject == subject)
            .group_by(Conversation.id, Conversation.title)
            .order_by(last_id.desc())
            .limit(limit + 1)  # one extra row says whether a next page exists
        )
        if cursor is not None:
            query = query.having(func.max(Message.id) < decode_cursor(cursor))
        rows = (await self.session.execute(query)).all()
        items = [ConversationSummary(r.id, r.title, r.last_id) for r in rows[:limit]]
        more = len(rows) > limit
        return Page(items, encode_cursor(items[-1].last_message_id) if more else None)

    async def delete(self, conversation_ids: list[uuid.UUID]) -> int:
        """Delete conversations with their messages and memberships.

        Explicit statements instead of ``ON DELETE CASCADE``: SQLite ignores cascades
        unless ``PRAGMA foreign_keys=ON``, and bulk deletes skip ORM cascades.
        """
        if not conversation_ids:
            return 0
        await self.session.execute(
            delete(Message).where(Message.conversation_id.in_(conversation_ids))
        )
        await self.session.execute(
            delete(ConversationMember).where(
                ConversationMember.conversation_id.in_(conversation_ids)
            )
        )
        result = await self.session.execute(
            delete(Conversation).where(Conversation.id.in_(conversation_ids))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def inactive_since(self, cutoff: datetime, *, limit: int) -> list[uuid.UUID]:
        """Conversations with no message at or after *cutoff* (retention)."""
        recent = exists().where(
            and_(Message.conversation_id == Conversation.id, Message.created_at >= cutoff)
        )
        rows = await self.session.scalars(
            select(Conversation.id).where(Conversation.created_at < cutoff, ~recent).limit(limit)
        )
        return list(rows)

    async def transcript(self, conversation_id: uuid.UUID, *, limit: int) -> list[ChatMessage]:
        """The first *limit* messages, for titles and summaries."""
        rows = await self.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id)
            .limit(limit)
        )
        return [ChatMessage("user" if m.role == "user" else "assistant", m.content) for m in rows]

    async def replace_default_title(self, conversation_id: uuid.UUID, title: str) -> bool:
        """Set a generated title unless someone already changed the default one.

        The default title is the first message cut to 200 characters; the condition in
        the UPDATE makes a retried or duplicated task harmless.
        """
        first = (
            select(func.substr(Message.content, 1, 200))
            .where(Message.conversation_id == conversation_id, Message.role == "user")
            .order_by(Message.id)
            .limit(1)
            .scalar_subquery()
        )
        result = await self.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.title == first)
            .values(title=title[:200])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


# [end:repository]
