"""Resume a chat stream after a dropped connection: ``Last-Event-ID`` on any replica."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from contextlib import aclosing
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from chatbot.security.access import ReadableConversation
from chatbot.streaming.turns import TurnServicesDep

router = APIRouter(prefix="/v1", tags=["chat"])


async def resumable_turn(conversation_id: ReadableConversation, turns: TurnServicesDep) -> str:
    """404 before the stream starts: once the 200 is sent, the status cannot change."""
    key = str(conversation_id)
    if not await turns.replay.exists(key):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no turn to resume")
    return key


# [start:resume]
@router.get(
    "/conversations/{conversation_id}/stream",
    response_class=EventSourceResponse,
    responses={404: {"description": "No turn of this conversation is buffered"}},
)
async def resume_stream(
    conversation_id: uuid.UUID,
    key: Annotated[str, Depends(resumable_turn)],
    turns: TurnServicesDep,
    last_event_id: Annotated[int, Header(ge=0)] = 0,
) -> AsyncIterable[ServerSentEvent]:
    """The latest turn's events after ``Last-Event-ID``, then live ones until it ends.

    Without the header the whole turn is replayed. Ids and payloads are the ones the
    original stream carried, so a client appends what it receives and nothing else.
    """
    events = turns.replay.read(key, after=last_event_id)
    async with aclosing(events):
        async for event in events:
            yield ServerSentEvent(event=event.event, raw_data=event.data, id=str(event.id))


# [end:resume]
