"""SessionManager and SyncService against a real redis-server (started by conftest)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from chatbot.memory.sessions import SessionManager, SyncService

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    r = redis.from_url(redis_url, decode_responses=True)
    await r.flushdb()
    yield r
    await r.aclose()


async def test_session_lifecycle_and_sliding_idle_ttl(client: redis.Redis) -> None:
    sessions = SessionManager(client, idle_ttl_s=60, absolute_ttl_s=3600)
    session, evicted = await sessions.create("u1", "laptop")
    assert evicted == [] and len(session.session_id) >= 43
    assert 55 <= await client.ttl(f"sess:{session.session_id}") <= 60
    await client.expire(f"sess:{session.session_id}", 5)
    assert await sessions.touch(session.session_id, conversation_id="c9")
    assert 55 <= await client.ttl(f"sess:{session.session_id}") <= 60
    loaded = await sessions.get(session.session_id)
    assert loaded is not None and loaded.conversation_id == "c9" and loaded.device_id == "laptop"
    await sessions.revoke(session.session_id)
    assert await sessions.get(session.session_id) is None
    assert not await sessions.touch(session.session_id)


async def test_idle_ttl_never_extends_past_the_absolute_lifetime(client: redis.Redis) -> None:
    sessions = SessionManager(client, idle_ttl_s=600, absolute_ttl_s=30)
    session, _ = await sessions.create("u1", "phone")
    await sessions.touch(session.session_id)
    assert await client.ttl(f"sess:{session.session_id}") <= 30
    await client.hset(f"sess:{session.session_id}", "created_at", time.time() - 31)
    assert await sessions.get(session.session_id) is None


async def test_device_cap_evicts_the_oldest_sessions_atomically(client: redis.Redis) -> None:
    sessions = SessionManager(client, max_sessions_per_user=3)
    created = []
    for device in ("a", "b", "c"):
        created.append((await sessions.create("u1", device))[0])
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*(sessions.create("u1", f"new{i}") for i in range(2)))
    evicted = sorted(e for _, ev in results for e in ev)
    assert evicted == sorted(s.session_id for s in created[:2])
    live = await sessions.active("u1")
    assert len(live) == 3 and created[2].session_id in {s.session_id for s in live}
    assert await sessions.revoke_all("u1") == 3
    assert await sessions.active("u1") == []


async def test_active_prunes_expired_index_entries(client: redis.Redis) -> None:
    sessions = SessionManager(client)
    session, _ = await sessions.create("u1", "tv")
    await client.delete(f"sess:{session.session_id}")  # as if its TTL ran out
    assert await sessions.active("u1") == []
    assert await client.zcard("user_sessions:u1") == 0


async def test_devices_catch_up_from_their_cursor_and_skip_their_own_events(
    client: redis.Redis,
) -> None:
    sync = SyncService(client)
    laptop_cursor = "0-0"
    await sync.publish("u1", {"type": "message", "id": 1}, origin_device="phone")
    await sync.publish("u1", {"type": "rename", "title": "Refunds"}, origin_device="laptop")
    batch = await sync.read("u1", device_id="laptop", cursor=laptop_cursor)
    assert 0 < await client.ttl(SyncService.key("u1")) <= 7 * 24 * 3600
    assert [e for _, e in batch.events] == [{"type": "message", "id": 1}]
    assert not batch.resync_required
    await sync.publish("u1", {"type": "message", "id": 2}, origin_device="phone")
    later = await sync.read("u1", device_id="laptop", cursor=batch.cursor)
    assert [e["id"] for _, e in later.events] == [2]


async def test_a_blocking_read_wakes_on_publish(client: redis.Redis) -> None:
    sync = SyncService(client)
    start = await sync.read("u1", device_id="laptop")
    reader = asyncio.create_task(
        sync.read("u1", device_id="laptop", cursor=start.cursor or "$", block_ms=5000)
    )
    await asyncio.sleep(0.1)
    await sync.publish("u1", {"type": "message", "id": 3}, origin_device="phone")
    batch = await asyncio.wait_for(reader, 5)
    assert [e["id"] for _, e in batch.events] == [3]


async def test_a_device_that_fell_behind_the_trimmed_stream_must_resync(
    client: redis.Redis,
) -> None:
    sync = SyncService(client, max_events=10)
    first = await sync.publish("u1", {"n": 0}, origin_device="phone")
    for n in range(1, 500):
        await sync.publish("u1", {"n": n}, origin_device="phone")
    await client.xtrim(SyncService.key("u1"), maxlen=10, approximate=False)
    batch = await sync.read("u1", device_id="laptop", cursor=first)
    assert batch.resync_required and batch.events == []
    resumed = await sync.read("u1", device_id="laptop", cursor="0-0")
    assert len(resumed.events) == 10
