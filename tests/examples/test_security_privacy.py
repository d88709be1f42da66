"""GDPR erasure across every store the backend writes, audit-chain tamper detection,
consent records, PII redaction and API-key handling."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import anyio
import pytest
import redis.asyncio as redis
from chatbot.app import create_app
from chatbot.db.models import Base
from chatbot.memory.memory import LongTermMemory
from chatbot.memory.sessions import SessionManager, SyncService
from chatbot.rag.models import Chunk, EmbeddedChunk
from chatbot.rag.vectorstore import InMemoryVectorStore
from chatbot.security.apikeys import ApiKeyManager
from chatbot.security.audit import AuditEvent, AuditLogger, pseudonym, verify_chain
from chatbot.security.erasure import (
    DEFAULT_REDIS_PATTERNS,
    EXEMPT_TABLES,
    ErasureHandler,
    Inventory,
    RedisErasure,
    SessionErasure,
    SqlErasure,
    StreamEntryErasure,
    VectorMemoryErasure,
)
from chatbot.security.privacy import CLASSIFICATION, ConsentManager, Purpose, redact
from chatbot.settings import Settings
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

KEY = b"k" * 32
SENTINEL = "SENTINEL-7c1e-allergy-penicillin"


@pytest.fixture
def app_client(settings: Settings, redis_url: str) -> Iterator[TestClient]:
    """The app on SQLite plus a real redis-server, so both stores get written."""
    with TestClient(create_app(settings.model_copy(update={"redis_url": redis_url}))) as client:
        yield client


def _chat(client: TestClient, message: str, headers: dict[str, str]) -> str:
    response = client.post("/v1/chat/stream", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    line = next(x for x in response.text.splitlines() if x.startswith("data:"))
    return str(json.loads(line[5:])["conversation_id"])


async def _dump_sql(client: TestClient) -> str:
    """Every row of every table as text: where a forgotten copy would show up."""
    rows = []
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            rows.extend(f"{table.name}:{tuple(row)}" for row in result)
    return "\n".join(rows)


async def _dump_redis(url: str) -> str:
    """Every key and its contents, read by type (DUMP output may be compressed)."""
    client = redis.from_url(url, decode_responses=True)
    readers = {
        "string": client.get,
        "hash": client.hgetall,
        "set": client.smembers,
        "list": lambda k: client.lrange(k, 0, -1),
        "zset": lambda k: client.zrange(k, 0, -1),
        "stream": lambda k: client.xrange(k),
    }
    try:
        out = []
        async for key in client.scan_iter(count=1000):
            kind = await client.type(key)
            value = await readers[kind](key) if kind in readers else await client.dump(key)
            out.append(f"{key}={value!r}")
        return "\n".join(out)
    finally:
        await client.aclose()


# [start:erasure-test]
def test_erasure_reaches_every_store_and_spares_other_users(
    app_client: TestClient, redis_url: str
) -> None:
    # Two users write: a JWT-less setup authenticates them with API keys.
    app = app_client.app
    app.state.authenticator = app.state.authenticator.__class__(  # type: ignore[attr-defined]
        settings=app.state.authenticator.settings,  # type: ignore[attr-defined]
        jwt=None,
        api_keys=ApiKeyManager(KEY),
        anonymous_ok=False,
    )

    async def setup() -> tuple[str, str]:
        async with app.state.sessions() as session:  # type: ignore[attr-defined]
            manager = ApiKeyManager(KEY)
            alice = await manager.issue(session, owner_id="alice", name="a", scopes=frozenset())
            bob = await manager.issue(session, owner_id="bob", name="b", scopes=frozenset())
            await ConsentManager("2026-10").set(session, "alice", Purpose.HISTORY, granted=True)
        return alice, bob

    alice_key, bob_key = app_client.portal.call(setup)  # type: ignore[union-attr]
    _chat(app_client, f"I am allergic: {SENTINEL}", {"Authorization": f"Bearer {alice_key}"})
    _chat(app_client, "second conversation", {"Authorization": f"Bearer {alice_key}"})
    _chat(app_client, "bob's question", {"Authorization": f"Bearer {bob_key}"})

    before_sql = app_client.portal.call(_dump_sql, app_client)  # type: ignore[union-attr]
    before_redis = app_client.portal.call(_dump_redis, redis_url)  # type: ignore[union-attr]
    assert SENTINEL in before_sql and "alice" in before_sql and "alice" in before_redis

    sessions = app.state.sessions  # type: ignore[attr-defined]
    audit = AuditLogger(sessions, key=KEY, chain="test-pod")
    handler = ErasureHandler(
        sessions,
        [
            SqlErasure(sessions),
            RedisErasure(app.state.redis, DEFAULT_REDIS_PATTERNS),  # type: ignore[attr-defined]
            StreamEntryErasure(app.state.redis, ["chatbot:events"]),  # type: ignore[attr-defined]
        ],
        audit=audit,
        pseudonym_key=KEY,
    )
    report = app_client.portal.call(handler.erase, "alice")  # type: ignore[union-attr]

    after_sql = app_client.portal.call(_dump_sql, app_client)  # type: ignore[union-attr]
    after_redis = app_client.portal.call(_dump_redis, redis_url)  # type: ignore[union-attr]
    for dump in (after_sql, after_redis):
        assert SENTINEL not in dump and "alice" not in dump
    assert "bob's question" in after_sql and "ratelimit:user:bob" in after_redis
    # 4 messages, 2 memberships, 2 conversations, 1 key, 1 consent. Redis holds at least
    # the rate-limit key; replay buffers, token buckets and events depend on what is wired.
    assert report.counts["sql"] == 10 and report.counts["redis"] >= 1
    assert set(report.counts) == {"sql", "redis", "streams"}
    assert pseudonym(KEY, "alice") in after_sql  # the ledger and the audit event, pseudonymous


# [end:erasure-test]


def test_every_table_is_erased_or_exempt_with_a_reason() -> None:
    handled = set(SqlErasure.TABLES) | set(EXEMPT_TABLES)
    unclassified = {t.name for t in Base.metadata.sorted_tables} - handled
    assert not unclassified, (
        f"tables {sorted(unclassified)} may hold personal data: erase them in SqlErasure "
        "or add them to EXEMPT_TABLES with the legal reason"
    )


def test_audit_chain_detects_tampering(client: TestClient) -> None:
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    audit = AuditLogger(sessions, key=KEY, chain="pod-a")

    async def scenario() -> tuple[int | None, int | None, str]:
        for n in range(3):
            await audit.record(
                subject="alice", action="conversation.read", resource=f"c{n}", outcome="allowed"
            )
        async with sessions() as session:
            intact = await verify_chain(session, "pod-a")
            actors = set(await session.scalars(select(AuditEvent.actor)))
            await session.execute(
                update(AuditEvent).where(AuditEvent.seq == 2).values(outcome="denied")
            )
            await session.commit()
            return intact, await verify_chain(session, "pod-a"), actors.pop()

    intact, tampered, actor = client.portal.call(scenario)  # type: ignore[union-attr]
    assert intact is None and tampered == 2
    assert actor == pseudonym(KEY, "alice") and "alice" not in actor


def test_consent_is_per_purpose_and_per_policy_version(client: TestClient) -> None:
    sessions = client.app.state.sessions  # type: ignore[attr-defined]

    async def scenario() -> list[bool]:
        async with sessions() as session:
            v1 = ConsentManager("2026-01")
            await v1.set(session, "alice", Purpose.HISTORY, granted=True)
            results = [
                await v1.allows(session, "alice", Purpose.HISTORY),
                await v1.allows(session, "alice", Purpose.IMPROVEMENT),
                await ConsentManager("2026-10").allows(session, "alice", Purpose.HISTORY),
            ]
            await v1.set(session, "alice", Purpose.HISTORY, granted=False)
            results.append(await v1.allows(session, "alice", Purpose.HISTORY))
            count = await session.scalar(text("SELECT count(*) FROM consent_records"))
            results.append(count == 2)  # withdrawal appended, nothing overwritten
            return results

    assert client.portal.call(scenario) == [True, False, False, False, True]  # type: ignore[union-attr]


# [start:redact-test]
def test_redaction_keeps_order_numbers_and_removes_identifiers() -> None:
    text_in = (
        "Mail jane.doe@corp.example or call +44 20 7946 0958. Card 4111 1111 1111 1111, "
        "IBAN GB82 WEST 1234 5698 7654 32, from 192.168.1.20. Order 4111111111111112 "
        "shipped on 2026-11-24."
    )
    redacted, found = redact(text_in)
    assert redacted == (
        "Mail [EMAIL] or call [PHONE]. Card [CARD], IBAN [IBAN], from [IP]. "
        "Order 4111111111111112 shipped on 2026-11-24."
    )
    assert found == {"EMAIL": 1, "PHONE": 1, "CARD": 1, "IBAN": 1, "IP": 1}


# [end:redact-test]


def test_classification_covers_restricted_content() -> None:
    assert CLASSIFICATION["messages.content"] == "restricted"
    assert all(column.split(".")[0] for column in CLASSIFICATION)


def test_api_key_format_and_storage(client: TestClient) -> None:
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    manager = ApiKeyManager(KEY)

    async def scenario() -> tuple[str, str, object, object]:
        async with sessions() as session:
            key = await manager.issue(session, owner_id="svc", name="ci", scopes=frozenset({"a"}))
            stored = await session.scalar(text("SELECT digest FROM api_keys"))
            good = await manager.verify(session, key)
            wrong_pepper = await ApiKeyManager(b"x" * 32).verify(session, key)
            return key, str(stored), good, wrong_pepper

    key, stored, good, wrong_pepper = client.portal.call(scenario)  # type: ignore[union-attr]
    assert key.startswith("cb_live_") and len(key) == 59
    assert key.split("_")[-1][:32] not in stored  # only the keyed hash is stored
    assert good is not None and good.owner_id == "svc" and good.scopes == {"a"}
    assert wrong_pepper is None
    with pytest.raises(ValueError, match="32 bytes"):
        ApiKeyManager(b"short")


def test_sessions_sync_stream_and_long_term_memory_are_erased(redis_url: str) -> None:
    """The memory stack of chapter 7: Redis sessions, the sync stream, vector memory."""

    async def scenario() -> tuple[dict[str, int], str, list[str]]:
        client = redis.from_url(redis_url, decode_responses=True)
        await client.flushdb()
        sessions = SessionManager(client)
        for user in ("alice", "alice", "bob"):
            await sessions.create(user, device_id=f"{user}-laptop")
        await SyncService(client).publish("alice", {"message": SENTINEL}, origin_device="d1")
        store = InMemoryVectorStore()
        for user in ("alice", "bob"):
            tenant = LongTermMemory.tenant(user)
            chunk = Chunk(f"{user}-fact", tenant, 0, f"{user} likes tea", 0, 10, {})
            await store.upsert(tenant, [EmbeddedChunk(chunk, [1.0, 0.0], "test-model")])
        targets = [
            RedisErasure(client, DEFAULT_REDIS_PATTERNS),
            SessionErasure(sessions),
            VectorMemoryErasure(store, LongTermMemory.tenant),
        ]
        inventory = Inventory("alice", ())
        counts = {t.name: await t.erase(inventory) for t in targets}
        dump = await _dump_redis(redis_url)
        for key in await client.keys("sess:*"):  # the user id sits inside the hash
            dump += str(await client.hgetall(key))
        left = [c.text for t in ("alice", "bob") for c in store.chunks(LongTermMemory.tenant(t))]
        await client.aclose()
        return counts, dump, left

    counts, dump, memories = anyio.run(scenario)
    assert counts == {"redis": 1, "sessions": 2, "vector_memory": 1}
    assert "alice" not in dump and SENTINEL not in dump
    assert "bob" in dump and memories == ["bob likes tea"]


def test_stream_entries_naming_the_subject_are_removed_across_pages(redis_url: str) -> None:
    async def scenario() -> tuple[int, int, int]:
        client = redis.from_url(redis_url, decode_responses=True)
        await client.delete("events:test")
        for n in range(2500):  # three pages of 1,000
            who = "alice" if n % 500 == 0 else "bob"
            await client.xadd("events:test", {"type": "TurnCompleted", "tenant": who})
        await client.xadd("events:test", {"conversation": "c-42", "tenant": "t"})
        target = StreamEntryErasure(client, ["events:test"])
        removed = await target.erase(Inventory("alice", (uuid.UUID(int=42),)))
        conv = await target.erase(Inventory("nobody", ()))
        left = await client.xlen("events:test")
        await client.aclose()
        return removed, conv, left

    removed, again, left = anyio.run(scenario)
    assert (removed, again, left) == (5, 0, 2496)
