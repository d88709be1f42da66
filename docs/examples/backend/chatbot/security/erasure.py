"""GDPR Art. 17 erasure: find everything a person left in every store, delete it, prove it.

The handler takes an inventory first (which conversations are theirs), because the stores
keyed by conversation (caches, streams, vector memory) cannot be searched by person. It
ends with a ledger row holding only a pseudonym, which is replayed after a backup restore.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import redis.asyncio as redis
from sqlalchemy import DateTime, Integer, String, Text, delete, select, union
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.db.models import Base, Conversation, Message
from chatbot.security.access import ConversationMember
from chatbot.security.apikeys import ApiKey
from chatbot.security.audit import AuditLogger, pseudonym
from chatbot.security.privacy import ConsentRecord

if TYPE_CHECKING:  # typing only: erasure must not pull the memory stack into every import
    from chatbot.memory.sessions import SessionManager
    from chatbot.rag.models import Chunk


class ErasureLedger(Base):
    __tablename__ = "erasure_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    report: Mapped[str] = mapped_column(Text)  # "store=count" pairs, no personal data


# Tables the SQL target does not delete from, and why. A new table that holds personal data
# must be added to ``SqlErasure`` or here; a test fails until it is.
EXEMPT_TABLES: dict[str, str] = {
    "audit_events": "actor is a keyed pseudonym; kept 12 months (Art. 17(3)(b), (e))",
    "erasure_ledger": "pseudonym only; needed to re-apply erasures after a restore",
}


@dataclass(frozen=True, slots=True)
class Inventory:
    subject: str
    conversation_ids: tuple[uuid.UUID, ...]


class ErasureTarget(Protocol):
    name: str

    async def erase(self, inventory: Inventory) -> int:
        """Delete what this store holds for the subject; return how many items went."""
        ...


# [start:targets]
class SqlErasure:
    """Conversations they own with every message and membership, their keys and consents.

    Messages are deleted explicitly: bulk ``delete()`` skips ORM cascades, and SQLite
    ignores ``ON DELETE CASCADE`` unless ``PRAGMA foreign_keys=ON`` is set per connection.
    """

    name = "sql"
    TABLES = ("messages", "conversations", "conversation_members", "api_keys", "consent_records")

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def erase(self, inventory: Inventory) -> int:
        subject, owned = inventory.subject, inventory.conversation_ids
        statements = [
            delete(Message).where(Message.conversation_id.in_(owned)),
            delete(ConversationMember).where(
                ConversationMember.conversation_id.in_(owned)
                | (ConversationMember.subject == subject)
            ),
            delete(Conversation).where(Conversation.id.in_(owned)),
            delete(ApiKey).where(ApiKey.owner_id == subject),
            delete(ConsentRecord).where(ConsentRecord.subject == subject),
        ]
        removed = 0
        async with self._sessions() as session, session.begin():
            for statement in statements:
                result = await session.execute(statement)
                removed += result.rowcount or 0  # type: ignore[attr-defined]
        return removed


class RedisErasure:
    """Keys that embed the subject or one of their conversation ids: SCAN, then UNLINK.

    SCAN with MATCH walks the whole keyspace (about 1 s per 10 M keys): fine for a queue
    of erasure jobs, not for a request handler. UNLINK frees memory off the main thread.
    """

    name = "redis"

    def __init__(self, client: redis.Redis, patterns: Sequence[str]) -> None:
        self._redis = client
        self._patterns = patterns  # e.g. "ratelimit:user:{subject}:*", "*{conversation}*"

    async def erase(self, inventory: Inventory) -> int:
        removed = 0
        for pattern in self._patterns:
            if "{conversation}" in pattern:
                concrete = [pattern.format(conversation=c) for c in inventory.conversation_ids]
            else:
                concrete = [pattern.format(subject=inventory.subject)]
            for match in concrete:
                batch = [key async for key in self._redis.scan_iter(match=match, count=1000)]
                if batch:
                    removed += int(await self._redis.unlink(*batch))
        return removed


# Every Redis key family the reference writes that embeds a user or a conversation id:
# rate limits (chatbot.ratelimit, chatbot.architecture.ratelimit), the per-user sync
# stream and session index (chatbot.memory.sessions), and conversation-keyed caches and
# replay buffers. Session hashes ("sess:<random>") hold the user id in a field, not the
# key, so SessionErasure removes them through the session index.
DEFAULT_REDIS_PATTERNS = (
    "ratelimit:user:{subject}:*",
    "rl:*:user:{subject}:*",
    "rl:{{{subject}}}:*",  # a tenant bucket; without a tenant claim the tenant is the user
    "sync:{subject}",
    "*{conversation}*",
)


class StreamEntryErasure:
    """Entries of shared streams (the event stream) that name the subject or a conversation.

    Keys cannot be deleted here, other users' events share them; XDEL removes single
    entries. The scan reads the whole stream in pages of 1,000, so keep event streams
    trimmed (``MAXLEN``) and events free of content: ids only.
    """

    name = "streams"

    def __init__(self, client: redis.Redis, streams: Sequence[str]) -> None:
        self._redis = client
        self._streams = streams

    async def erase(self, inventory: Inventory) -> int:
        needles = [inventory.subject, *map(str, inventory.conversation_ids)]
        removed = 0
        for stream in self._streams:
            cursor = "-"
            while True:
                page = await self._redis.xrange(stream, min=cursor, max="+", count=1000)
                if not page:
                    break
                ids = [_text(entry_id) for entry_id, _ in page if entry_id is not None]
                doomed = [
                    entry_id
                    for entry_id, (_, fields) in zip(ids, page, strict=True)
                    if any(n in _text(v) for v in (fields or {}).values() for n in needles)
                ]
                if doomed:
                    removed += int(await self._redis.xdel(stream, *doomed))
                if len(page) < 1000:
                    break
                cursor = "(" + ids[-1]  # exclusive start after the last id
        return removed


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class SessionErasure:
    """Sign the subject out everywhere: session hashes and the per-user session index."""

    name = "sessions"

    def __init__(self, sessions: SessionManager) -> None:
        self._sessions = sessions

    async def erase(self, inventory: Inventory) -> int:
        return await self._sessions.revoke_all(inventory.subject)


class ListableVectorStore(Protocol):
    """A vector store that can list a tenant's chunks (the in-memory one can)."""

    def chunks(self, tenant_id: str) -> list[Chunk]: ...

    async def delete_document(self, tenant_id: str, doc_id: str) -> None: ...


class VectorMemoryErasure:
    """Long-term memory lives in the vector store under a per-user tenant
    (``LongTermMemory.tenant``: ``mem:<user id>``).

    Stores that cannot list a tenant's documents (most managed ones) need a
    delete-by-tenant call instead; pgvector does it with one ``DELETE ... WHERE tenant_id``.
    """

    name = "vector_memory"

    def __init__(self, store: ListableVectorStore, tenant_of: Callable[[str], str]) -> None:
        self._store = store
        self._tenant_of = tenant_of

    async def erase(self, inventory: Inventory) -> int:
        tenant = self._tenant_of(inventory.subject)
        documents = {chunk.doc_id for chunk in self._store.chunks(tenant)}
        for doc_id in sorted(documents):
            await self._store.delete_document(tenant, doc_id)
        return len(documents)


# [end:targets]


@dataclass
class ErasureReport:
    subject_pseudonym: str
    counts: dict[str, int] = field(default_factory=dict)


# [start:handler]
class ErasureHandler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        targets: Sequence[ErasureTarget],
        *,
        audit: AuditLogger,
        pseudonym_key: bytes,
    ) -> None:
        self._sessions = sessions
        self._targets = targets
        self._audit = audit
        self._key = pseudonym_key

    async def inventory(self, subject: str) -> Inventory:
        async with self._sessions() as session:
            owned = await session.scalars(
                select(ConversationMember.conversation_id).where(
                    ConversationMember.subject == subject, ConversationMember.role == "owner"
                )
            )
            return Inventory(subject, tuple(owned))

    async def erase(self, subject: str) -> ErasureReport:
        """Run every target; a failing target raises after the others ran (retry the job)."""
        requested = datetime.now(UTC)
        inventory = await self.inventory(subject)
        report = ErasureReport(pseudonym(self._key, subject))
        failures: list[Exception] = []
        for target in self._targets:  # sequential: each is I/O bound and the job is rare
            try:
                report.counts[target.name] = await target.erase(inventory)
            except Exception as exc:  # keep going: partial erasure beats none, and we retry
                failures.append(exc)
        if failures:
            raise ExceptionGroup("erasure incomplete; the job will be retried", failures)
        async with self._sessions() as session:
            session.add(
                ErasureLedger(
                    subject_pseudonym=report.subject_pseudonym,
                    requested_at=requested,
                    completed_at=datetime.now(UTC),
                    report=" ".join(f"{k}={v}" for k, v in sorted(report.counts.items())),
                )
            )
            await session.commit()
        await self._audit.record(
            subject=subject,
            action="gdpr.erasure",
            resource=f"subject:{report.subject_pseudonym}",
            outcome="completed",
            detail=dict(report.counts),
        )
        return report

    async def replay_after_restore(self) -> int:
        """Erase again everyone in the ledger who reappeared with a restored backup."""
        async with self._sessions() as session:
            ledger = set(await session.scalars(select(ErasureLedger.subject_pseudonym)))
            subjects = await session.scalars(
                union(select(ConversationMember.subject), select(ApiKey.owner_id))
            )
            returned = [s for s in subjects if pseudonym(self._key, s) in ledger]
        for subject in returned:
            await self.erase(subject)
        return len(returned)


# [end:handler]
