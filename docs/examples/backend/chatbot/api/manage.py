"""Conversation management: the caller's list, page by page, and deletion."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, TypeAdapter

from chatbot.architecture.events import ConversationDeleted
from chatbot.db.conversations import ConversationRepository
from chatbot.deps import SessionDep
from chatbot.security.access import member_role
from chatbot.security.auth import CurrentUser
from chatbot.streaming.budget import tenant_of
from chatbot.streaming.turns import TurnServicesDep

router = APIRouter(prefix="/v1", tags=["conversations"])


class ConversationSummaryOut(BaseModel):
    id: uuid.UUID
    title: str


class ConversationPage(BaseModel):
    items: list[ConversationSummaryOut]
    next_cursor: str | None  # pass back as ?cursor= for the next page; null on the last


PAGE = TypeAdapter(ConversationPage)
FIRST_PAGE_TTL_S = 15  # bounds how long a generated title takes to show up


# [start:list]
@router.get("/conversations")
async def list_conversations(
    user: CurrentUser,
    session: SessionDep,
    turns: TurnServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> ConversationPage:
    """The caller's conversations, most recently active first.

    The default first page is what every open tab asks for on focus, so it is cached
    per user and dropped when one of their turns starts (``TurnServices.begin``).
    """

    async def load() -> ConversationPage:
        try:
            page = await ConversationRepository(session).page_for(
                user.subject, limit=limit, cursor=cursor
            )
        except ValueError as exc:  # a cursor we did not issue
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid cursor") from exc
        items = [ConversationSummaryOut(id=c.id, title=c.title) for c in page.items]
        return ConversationPage(items=items, next_cursor=page.next_cursor)

    key = turns.list_key(user.subject)
    if turns.cache is None or key is None or cursor is not None or limit != 20:
        return await load()
    return await turns.cache.get_or_load(key, PAGE, load, ttl_s=FIRST_PAGE_TTL_S)


@router.delete("/conversations/{conversation_id}", status_code=204)
async def delete_conversation(
    conversation_id: uuid.UUID, user: CurrentUser, session: SessionDep, turns: TurnServicesDep
) -> Response:
    """Owners only; anyone else gets the same 404 as for an id that does not exist."""
    async with session.begin():
        if await member_role(session, conversation_id, user.subject) != "owner":
            raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
        await ConversationRepository(session).delete([conversation_id])
    # Caches, replay buffers and search indexes forget it through the event.
    if turns.cache is not None and (key := turns.list_key(user.subject)) is not None:
        await turns.cache.invalidate(key)
    event = ConversationDeleted(conversation_id=str(conversation_id), tenant_id=tenant_of(user))
    turns.background.spawn(turns.events.publish(event), name="publish-deleted")
    return Response(status_code=204)


# [end:list]
