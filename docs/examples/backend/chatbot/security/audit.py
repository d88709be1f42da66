"""An append-only, hash-chained audit log of security-relevant events.

Each row stores the SHA-256 of its predecessor's hash and its own content, so editing or
deleting a row breaks every later hash. Actors are pseudonyms (HMAC of the user id), never
raw ids or message content, which is what lets the log outlive an erasure request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.db.models import Base

GENESIS = "0" * 64
log = logging.getLogger("chatbot.audit")


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def pseudonym(key: bytes, subject: str) -> str:
    """Stable per subject, useless without the key: HMAC-SHA256, first 32 hex digits."""
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()[:32]


def _digest(prev_hash: str, fields: dict[str, object]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, object]:
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)  # SQLite drops tz
    return {
        "chain": event.chain,
        "seq": event.seq,
        "at": at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "resource": event.resource,
        "outcome": event.outcome,
        "detail": event.detail,
    }


# [start:audit]
class AuditLogger:
    """Writes one chain per process (``chain`` = pod name), so replicas never contend.

    A single global chain would need a lock across all pods for every event; per-pod
    chains keep writes independent and are each verifiable on their own.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, key: bytes, chain: str
    ) -> None:
        self._sessions = sessions
        self._key = key
        self._chain = chain
        self._lock = asyncio.Lock()  # serialises this process's appends to its chain

    async def record(
        self,
        *,
        subject: str,
        action: str,
        resource: str,
        outcome: str,
        detail: dict[str, object] | None = None,
    ) -> AuditEvent:
        async with self._lock, self._sessions() as session:
            head = await session.scalar(
                select(AuditEvent)
                .where(AuditEvent.chain == self._chain)
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            )
            event = AuditEvent(
                chain=self._chain,
                seq=head.seq + 1 if head else 1,
                at=datetime.now(UTC),
                actor=pseudonym(self._key, subject),
                action=action,
                resource=resource,
                outcome=outcome,
                detail=json.dumps(detail or {}, sort_keys=True),
                prev_hash=head.hash if head else GENESIS,
            )
            event.hash = _digest(event.prev_hash, _fields(event))
            session.add(event)
            await session.commit()
        # The same event as one JSON line for the SIEM; the database copy is the evidence.
        log.info(json.dumps({"audit": _fields(event), "hash": event.hash}, default=str))
        return event


async def verify_chain(session: AsyncSession, chain: str) -> int | None:
    """The ``seq`` of the first event that does not verify, or None if the chain is intact."""
    expected_prev, expected_seq = GENESIS, 1
    events = await session.scalars(
        select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
    )
    for event in events:
        if (
            event.seq != expected_seq
            or event.prev_hash != expected_prev
            or event.hash != _digest(event.prev_hash, _fields(event))
        ):
            return expected_seq
        expected_prev, expected_seq = event.hash, expected_seq + 1
    return None


# [end:audit]
