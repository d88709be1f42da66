"""What the chat endpoint needs besides the model: replay buffer, events, background jobs."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.sse import ServerSentEvent
from redis.exceptions import RedisError

from chatbot.architecture.cache import RedisCache
from chatbot.architecture.events import EventBus, TurnCompleted
from chatbot.architecture.orchestration import BackgroundTasks
from chatbot.streaming.replay import BufferedEvent, ReplayBuffer
from chatbot.tasks.celery_app import ChatbotCelery
from chatbot.tasks.jobs import TITLE_WORDS, title_chain
from chatbot.tasks.queue import TaskQueue


def buffered(event: ServerSentEvent) -> BufferedEvent:
    """The event as the wire carries it; FastAPI encodes ``data`` the same way."""
    return BufferedEvent(
        int(event.id or 0), event.event or "message", json.dumps(jsonable_encoder(event.data))
    )


# [start:turn-services]
@dataclass
class TurnServices:
    """Built once in the lifespan; one instance serves every request of the process."""

    replay: ReplayBuffer
    events: EventBus
    background: BackgroundTasks
    queue: TaskQueue
    celery: ChatbotCelery
    cache: RedisCache | None = None

    def list_key(self, subject: str) -> str | None:
        """The cached first page of *subject*'s conversation list (see ``api/manage.py``)."""
        return self.cache.key("convs", subject) if self.cache is not None else None

    async def begin(self, key: str, subject: str) -> None:
        """A turn starts: empty its replay buffer; its conversation moves to the top."""
        await self.replay.start(key)
        if self.cache is not None and (list_key := self.list_key(subject)) is not None:
            with contextlib.suppress(RedisError):  # the entry expires on its own
                await self.cache.invalidate(list_key)

    def after_turn(self, completed: TurnCompleted, *, opening: str | None) -> None:
        """Off the user's path: the reply is already on screen when these run.

        *opening* is the first message of a new conversation. A short one is already a
        good title; only a longer one costs a model call to summarise.
        """
        self.background.spawn(self.events.publish(completed), name="publish-turn")
        if opening is not None and len(opening.split()) > TITLE_WORDS:
            job = title_chain(self.celery, completed.conversation_id)
            self.background.spawn(self.queue.submit(job), name="submit-title")


# [end:turn-services]


def get_turn_services(request: Request) -> TurnServices:
    services: TurnServices = request.app.state.turns
    return services


TurnServicesDep = Annotated[TurnServices, Depends(get_turn_services)]
