"""WebSocket authentication with single-use tickets.

Browsers cannot put an ``Authorization`` header on a WebSocket handshake. The client
therefore asks for a ticket over ordinary authenticated HTTP, then opens
``/v1/ws/chat?ticket=...`` within ``websocket_ticket_ttl_s``. The ticket works once:
an access log or a proxy that records the URL keeps a string that is already spent.
"""

from __future__ import annotations

import secrets
import time
from typing import Protocol

import redis.asyncio as redis
from fastapi import APIRouter, Request, WebSocket
from pydantic import BaseModel

from chatbot.deps import SettingsDep
from chatbot.security.auth import CurrentUser

router = APIRouter(prefix="/v1", tags=["chat"])


class TicketStore(Protocol):
    async def issue(self, subject: str, ttl_s: int) -> str: ...

    async def redeem(self, ticket: str) -> str | None:
        """The subject the ticket was issued to, once; ``None`` afterwards or when expired."""
        ...


# [start:tickets]
class RedisTicketStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    async def issue(self, subject: str, ttl_s: int) -> str:
        ticket = secrets.token_urlsafe(24)
        await self._redis.set(f"chatbot:v1:wsticket:{ticket}", subject, ex=ttl_s)
        return ticket

    async def redeem(self, ticket: str) -> str | None:
        subject = await self._redis.getdel(f"chatbot:v1:wsticket:{ticket}")  # atomic: once
        return subject.decode() if isinstance(subject, bytes) else subject


# [end:tickets]


class MemoryTicketStore:
    """One process only: tickets issued by one replica are unknown to the others."""

    def __init__(self) -> None:
        self._tickets: dict[str, tuple[str, float]] = {}

    async def issue(self, subject: str, ttl_s: int) -> str:
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = (subject, time.monotonic() + ttl_s)
        return ticket

    async def redeem(self, ticket: str) -> str | None:
        subject, expires = self._tickets.pop(ticket, ("", 0.0))
        return subject if expires > time.monotonic() else None


class Ticket(BaseModel):
    ticket: str
    expires_in: int


# [start:issue]
@router.post("/ws/tickets", status_code=201)
async def issue_ticket(request: Request, user: CurrentUser, settings: SettingsDep) -> Ticket:
    """A ticket for one WebSocket handshake, bound to the authenticated caller."""
    store: TicketStore = request.app.state.tickets
    ttl = settings.websocket_ticket_ttl_s
    return Ticket(ticket=await store.issue(user.subject, ttl), expires_in=ttl)


async def ticket_user(websocket: WebSocket) -> str | None:
    """The handshake's user, from ``?ticket=``; the route closes with 1008 on ``None``."""
    ticket = websocket.query_params.get("ticket")
    if not ticket:
        return None
    store: TicketStore = websocket.app.state.tickets
    return await store.redeem(ticket)


# [end:issue]
