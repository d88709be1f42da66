"""Domain events and an in-process event bus.

The chat request path publishes facts ("a turn completed") and returns; usage metering,
title generation, analytics and search indexing subscribe to them. In-process handlers
run in the same pod, for work that may be lost with the pod; anything that must survive
a crash is forwarded to a Redis stream (see :mod:`chatbot.architecture.streams`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter

logger = logging.getLogger(__name__)


# [start:events]
@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened. ``event_id`` lets consumers drop duplicates."""

    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageCreated(Event):
    conversation_id: str
    message_id: int
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnCompleted(Event):
    """One assistant reply finished streaming; carries what billing and SLOs need."""

    conversation_id: str
    tenant_id: str
    model: str
    input_tokens: int
    output_tokens: int
    time_to_first_token_ms: int
    finish_reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationDeleted(Event):
    """Erasure request: caches, vectors and exports must forget this conversation."""

    conversation_id: str
    tenant_id: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls for cls in (MessageCreated, TurnCompleted, ConversationDeleted)
}
# [end:events]

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[None]]


# [start:bus]
class EventBus:
    """Publish/subscribe inside one process.

    Handlers run concurrently, each under a timeout, and a failing handler never
    reaches the publisher: the chat reply has already been streamed and must not turn
    into an error because analytics is down. Failures are logged and returned so
    tests (and metrics) can see them.
    """

    def __init__(self, *, handler_timeout_s: float = 5.0) -> None:
        self._handlers: defaultdict[type[Event], list[Handler]] = defaultdict(list)
        self._timeout_s = handler_timeout_s

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        """Call ``handler`` for every published ``event_type`` (and its subclasses)."""
        self._handlers[event_type].append(handler)

    async def publish(self, event: Event) -> list[BaseException]:
        """Deliver ``event`` to every matching handler; return the handlers' errors."""
        handlers = [h for cls in type(event).__mro__ for h in self._handlers.get(cls, [])]
        results = await asyncio.gather(
            *(self._run(handler, event) for handler in handlers), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        for error in errors:
            logger.error(
                "event handler failed",
                extra={"event": type(event).__name__, "event_id": event.event_id},
                exc_info=error,
            )
        return errors

    async def _run(self, handler: Handler, event: Event) -> None:
        async with asyncio.timeout(self._timeout_s):
            await handler(event)


# [end:bus]


# [start:codec]
def encode_event(event: Event) -> dict[str, str]:
    """Flatten an event into Redis stream fields: its type name and a JSON body."""
    body = TypeAdapter(type(event)).dump_json(event).decode()
    return {"type": type(event).__name__, "data": body}


def decode_event(fields: dict[str, str]) -> Event:
    """Rebuild an event from stream fields; unknown types raise ``KeyError``."""
    event_type = EVENT_TYPES[fields["type"]]
    return TypeAdapter(event_type).validate_json(fields["data"])


# [end:codec]
