"""A WebSocket chat endpoint: handshake checks, one reader, a cancellable reply task.

Server-Sent Events over POST is the book's default transport; a WebSocket earns its
place when the client must talk while the model is talking (cancel, steer, voice).
Frames are small JSON objects with a ``type``:

* client to server: ``message`` (``content``), ``cancel``, ``ping``
* server to client: ``token`` (``seq``, ``delta``), ``done``, ``cancelled``, ``error``, ``pong``
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Collection
from contextlib import aclosing
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from chatbot.providers import ChatMessage, Finish, LLMProvider, ProviderError, TextDelta
from chatbot.settings import Settings

Authenticator = Callable[[WebSocket], Awaitable[str | None]]


# [start:frames]
class UserFrame(BaseModel):
    type: Literal["message"]
    content: str = Field(min_length=1, max_length=8000)


class CancelFrame(BaseModel):
    type: Literal["cancel"]


class PingFrame(BaseModel):
    type: Literal["ping"]


ClientFrame = TypeAdapter(
    Annotated[UserFrame | CancelFrame | PingFrame, Field(discriminator="type")]
)
# [end:frames]


# [start:session]
class ChatSocket:
    """One connection: the receive loop never blocks on the model, so ``cancel`` works."""

    def __init__(
        self, websocket: WebSocket, provider: LLMProvider, settings: Settings, *, idle_s: float
    ) -> None:
        self._ws = websocket
        self._provider = provider
        self._settings = settings
        self._idle_s = idle_s
        self._history: list[ChatMessage] = []
        self._turn: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()  # the reader and the reply task both send
        self._seq = itertools.count(1)

    async def serve(self) -> None:
        try:
            while True:
                async with asyncio.timeout(self._idle_s):
                    raw = await self._ws.receive_text()
                await self._dispatch(raw)
        except WebSocketDisconnect:
            pass  # the client left; the finally block stops generation
        except TimeoutError:
            await self._ws.close(code=1000, reason="idle")
        finally:
            if self._turn is not None and not self._turn.done():
                self._turn.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._turn

    async def _dispatch(self, raw: str) -> None:
        try:
            frame = ClientFrame.validate_json(raw)
        except ValidationError as error:
            await self._send(
                {"type": "error", "code": "bad_frame", "detail": error.errors()[0]["msg"]}
            )
            return
        if isinstance(frame, PingFrame):
            await self._send({"type": "pong"})
        elif isinstance(frame, CancelFrame):
            if self._turn is not None:
                self._turn.cancel()
        elif self._turn is not None and not self._turn.done():
            await self._send({"type": "error", "code": "busy", "detail": "one turn at a time"})
        else:
            self._turn = asyncio.create_task(self._reply(frame.content))

    async def _reply(self, content: str) -> None:
        self._history.append(ChatMessage("user", content))
        parts: list[str] = []
        try:
            events = self._provider.stream(
                self._history[-self._settings.history_limit :],
                system=self._settings.system_prompt,
                max_output_tokens=self._settings.max_output_tokens,
            )
            async with aclosing(events):  # cancelling us closes the upstream stream
                async for event in events:
                    if isinstance(event, TextDelta):
                        parts.append(event.text)
                        await self._send({"type": "token", "delta": event.text})
                    elif isinstance(event, Finish):
                        usage = asdict(event.usage) if event.usage else None
                        await self._send(
                            {"type": "done", "finish_reason": event.reason, "usage": usage}
                        )
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # the socket may already be gone
                await self._send({"type": "cancelled"})
            raise
        except ProviderError as error:
            await self._send({"type": "error", "code": error.code, "retryable": error.retryable})
        finally:
            if parts:  # keep what the user saw, so the next turn has the right context
                self._history.append(ChatMessage("assistant", "".join(parts)))

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self._ws.send_json({**frame, "seq": next(self._seq)})


# [end:session]


# [start:route]
def chat_socket_router(
    *, authenticate: Authenticator, allowed_origins: Collection[str], idle_s: float = 300.0
) -> APIRouter:
    """``/v1/ws/chat``; the app's lifespan provides ``state.provider`` and ``state.settings``.

    ``authenticate`` is a dependency, so tests can swap it with ``app.dependency_overrides``.
    """
    router = APIRouter(prefix="/v1")

    @router.websocket("/ws/chat")
    async def chat_socket(
        websocket: WebSocket,
        # A default, not Annotated: a closure variable is invisible to string annotations.
        user_id: str | None = Depends(authenticate),
    ) -> None:
        # Browsers send cookies on cross-site WebSocket handshakes and CORS does not
        # apply, so the Origin check is what stops cross-site WebSocket hijacking.
        if websocket.headers.get("origin") not in allowed_origins:
            await websocket.close(code=1008, reason="origin not allowed")
            return
        if user_id is None:
            await websocket.close(code=1008, reason="unauthenticated")
            return
        await websocket.accept()
        websocket.state.user_id = user_id
        state = websocket.app.state
        await ChatSocket(websocket, state.provider, state.settings, idle_s=idle_s).serve()

    return router


# [end:route]
