"""Redis Streams workers, the token-bucket limiter and the cache, against a real redis-server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from chatbot.architecture.cache import RedisCache, embedding_key, history_key
from chatbot.architecture.events import TurnCompleted, decode_event
from chatbot.architecture.ratelimit import (
    Limit,
    RateLimiter,
    chat_limits,
    retry_after_header,
    settle_tokens,
)
from chatbot.architecture.streams import ConsumerConfig, StreamConsumer, StreamProducer
from pydantic import BaseModel, TypeAdapter

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.from_url(redis_url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


def completed(n: int) -> TurnCompleted:
    return TurnCompleted(
        conversation_id=f"c{n}",
        tenant_id="t1",
        model="example-model",
        input_tokens=100,
        output_tokens=n,
        time_to_first_token_ms=300,
        finish_reason="stop",
    )


# --- Redis Streams -----------------------------------------------------------------------


class Recorder:
    def __init__(self, *, fail_times: int = 0) -> None:
        self.seen: list[str] = []
        self.fail_times = fail_times

    async def __call__(self, entry_id: str, fields: dict[str, str]) -> None:
        self.seen.append(entry_id)
        if len(self.seen) <= self.fail_times:
            raise RuntimeError("handler crashed")


def config(consumer: str, **overrides: object) -> ConsumerConfig:
    values: dict[str, object] = {"stream": "events", "group": "billing", "consumer": consumer}
    values.update({"block_ms": 50, **overrides})
    return ConsumerConfig(**values)  # type: ignore[arg-type]


async def pending_count(r: redis.Redis) -> int:
    summary = await r.xpending("events", "billing")
    return int(summary["pending"])


async def test_producer_to_consumer_group_with_ack(r: redis.Redis) -> None:
    producer = StreamProducer(r, "events")
    seen: list[TurnCompleted] = []

    async def handle(entry_id: str, fields: dict[str, str]) -> None:
        event = decode_event(fields)
        assert isinstance(event, TurnCompleted)
        seen.append(event)

    consumer = StreamConsumer(r, config("worker-1"), handle)
    await consumer.ensure_group()
    await consumer.ensure_group()  # every replica calls it on start: must be idempotent
    ids = [await producer.publish(completed(n)) for n in range(3)]
    assert all("-" in entry_id for entry_id in ids)
    assert await consumer.read_new() == 3
    assert [e.output_tokens for e in seen] == [0, 1, 2]
    assert await pending_count(r) == 0
    assert await consumer.read_new() == 0  # each entry is delivered to the group once


async def test_entries_of_a_dead_consumer_are_reclaimed(r: redis.Redis) -> None:
    producer = StreamProducer(r, "events")
    crashed = StreamConsumer(r, config("worker-1"), Recorder(fail_times=10))
    rescuer_handler = Recorder()
    rescuer = StreamConsumer(r, config("worker-2", min_idle_ms=100), rescuer_handler)
    await crashed.ensure_group()
    entry_id = await producer.publish(completed(1))
    assert await crashed.read_new() == 1
    assert await pending_count(r) == 1  # delivered to worker-1, never acked

    assert await rescuer.reclaim_stuck() == 0  # not idle long enough yet
    await asyncio.sleep(0.15)
    assert await rescuer.reclaim_stuck() == 1
    assert rescuer_handler.seen == [entry_id]
    assert await pending_count(r) == 0


async def test_a_poison_entry_is_dead_lettered_after_max_deliveries(r: redis.Redis) -> None:
    producer = StreamProducer(r, "events")
    always_fails = Recorder(fail_times=100)
    consumer = StreamConsumer(r, config("worker-1", min_idle_ms=20, max_deliveries=3), always_fails)
    await consumer.ensure_group()
    entry_id = await producer.publish(completed(7))
    await consumer.read_new()
    for _ in range(5):
        await asyncio.sleep(0.03)
        await consumer.reclaim_stuck()
    assert always_fails.seen == [entry_id] * 3  # tried three times, then given up
    assert await pending_count(r) == 0
    dead = await r.xrange("events:dead")
    assert len(dead) == 1
    fields = dead[0][1]
    assert fields["original_id"] == entry_id
    assert fields["deliveries"] == "4"
    assert decode_event(fields).conversation_id == "c7"  # the original payload, intact


async def test_run_loop_processes_until_stopped(r: redis.Redis) -> None:
    handler = Recorder()
    consumer = StreamConsumer(r, config("worker-1"), handler)
    stop = asyncio.Event()
    runner = asyncio.create_task(consumer.run(stop, reclaim_every_s=0.05))
    producer = StreamProducer(r, "events")
    for n in range(5):
        await producer.publish(completed(n))
    for _ in range(100):
        if len(handler.seen) == 5:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(runner, timeout=2)
    assert len(handler.seen) == 5


async def test_approximate_maxlen_caps_the_stream(r: redis.Redis) -> None:
    producer = StreamProducer(r, "events", maxlen=100)
    async with r.pipeline(transaction=False) as pipe:
        for n in range(2000):
            pipe.xadd("events", {"n": n}, maxlen=100, approximate=True)
        await pipe.execute()
    await producer.publish(completed(1))
    length = await r.xlen("events")
    assert 100 <= length < 300  # trimmed by whole nodes (100 entries each), never below


# --- token-bucket rate limiter -----------------------------------------------------------


async def test_bucket_allows_a_burst_then_refills(r: redis.Redis) -> None:
    limiter = RateLimiter(r)
    bucket = [Limit("rl:u1", capacity=3, refill_per_s=1)]
    decisions = [await limiter.acquire(bucket, now_ms=1_000) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [(2,), (1,), (0,)]
    assert decisions[3].retry_after_s == pytest.approx(1.0)
    assert retry_after_header(decisions[3]) == "1"
    assert (await limiter.acquire(bucket, now_ms=1_500)).allowed is False
    assert (await limiter.acquire(bucket, now_ms=2_000)).allowed is True


async def test_buckets_are_spent_all_or_nothing(r: redis.Redis) -> None:
    limiter = RateLimiter(r)
    limits = chat_limits(
        tenant_id="acme",
        user_id="u1",
        estimated_tokens=1_500,
        requests_per_minute=20,
        tenant_tokens_per_minute=2_000,
    )
    assert limits[0].key == "rl:{acme}:user:u1:req"
    assert limits[1].key == "rl:{acme}:tokens"
    first = await limiter.acquire(limits, now_ms=0)
    assert first.allowed and first.remaining == (19, 500)
    second = await limiter.acquire(limits, now_ms=0)
    assert not second.allowed
    assert second.retry_after_s == pytest.approx(30.0)  # 1,000 tokens at 33.3/s
    # The request bucket was not charged for the refused request.
    assert float(await r.hget("rl:{acme}:user:u1:req", "tokens")) == 19


async def test_a_request_larger_than_the_bucket_is_refused_outright(r: redis.Redis) -> None:
    decision = await RateLimiter(r).acquire(
        [Limit("rl:t", capacity=100, refill_per_s=10, cost=101)]
    )
    assert decision.allowed is False
    assert decision.retry_after_s is None


async def test_server_clock_expiry_and_token_refund(r: redis.Redis) -> None:
    limiter = RateLimiter(r)
    tokens = Limit("rl:{t}:tokens", capacity=6_000, refill_per_s=100, cost=4_000)
    assert (await limiter.acquire([tokens])).remaining == (2_000,)
    ttl_ms = await r.pttl("rl:{t}:tokens")
    assert 40_000 < ttl_ms <= 41_000  # refilled after 40 s, plus a second of slack
    await settle_tokens(limiter, tokens, estimated=4_000, actual=1_000)
    level = float(await r.hget("rl:{t}:tokens", "tokens"))
    assert 5_000 <= level < 5_100  # 3,000 refunded, plus a few ms of refill


async def test_concurrent_requests_never_overspend(r: redis.Redis) -> None:
    limiter = RateLimiter(r)
    bucket = [Limit("rl:hot", capacity=10, refill_per_s=0.001)]
    decisions = await asyncio.gather(*(limiter.acquire(bucket, now_ms=5) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10


# --- cache -------------------------------------------------------------------------------


class Profile(BaseModel):
    name: str
    plan: str


PROFILE = TypeAdapter(Profile)


async def test_get_or_load_misses_once_then_hits(r: redis.Redis) -> None:
    cache, calls = RedisCache(r), []

    async def load() -> Profile:
        calls.append(1)
        return Profile(name="Ada", plan="enterprise")

    key = cache.key("profile", "u1")
    assert key == "chatbot:v1:profile:u1"
    for _ in range(3):
        assert await cache.get_or_load(key, PROFILE, load, ttl_s=600) == Profile(
            name="Ada", plan="enterprise"
        )
    assert calls == [1]
    assert 540 <= await r.ttl(key) <= 660  # 600 s plus or minus 10 % jitter


async def test_a_stampede_runs_the_loader_once(r: redis.Redis) -> None:
    cache, calls = RedisCache(r), []

    async def slow_load() -> list[str]:
        calls.append(1)
        await asyncio.sleep(0.2)
        return ["hello", "world"]

    adapter = TypeAdapter(list[str])
    key = history_key(cache, tenant_id="t1", conversation_id="c1")
    results = await asyncio.gather(
        *(cache.get_or_load(key, adapter, slow_load, ttl_s=60) for _ in range(20))
    )
    assert all(result == ["hello", "world"] for result in results)
    assert calls == [1]
    assert await r.exists(f"{key}:lock") == 0  # the owner released its lock


async def test_a_dead_lock_owner_degrades_to_an_uncached_load(r: redis.Redis) -> None:
    cache = RedisCache(r, wait_for_owner_s=0.1)
    key = cache.key("profile", "u2")
    await r.set(f"{key}:lock", "someone-else", px=10_000)

    async def load() -> Profile:
        return Profile(name="Grace", plan="team")

    assert (await cache.get_or_load(key, PROFILE, load, ttl_s=60)).name == "Grace"
    assert await r.get(f"{key}:lock") == "someone-else"  # never delete another owner's lock


async def test_entries_of_an_old_shape_count_as_misses(r: redis.Redis) -> None:
    cache = RedisCache(r)
    key = cache.key("profile", "u3")
    await r.set(key, '{"name": "Linus"}')  # written by a release without "plan"

    async def load() -> Profile:
        return Profile(name="Linus", plan="free")

    assert (await cache.get_or_load(key, PROFILE, load, ttl_s=60)).plan == "free"
    assert PROFILE.validate_json(await r.get(key)).plan == "free"


async def test_invalidate_forces_a_reload(r: redis.Redis) -> None:
    cache, version = RedisCache(r), [0]

    async def load() -> list[str]:
        version[0] += 1
        return [f"v{version[0]}"]

    adapter = TypeAdapter(list[str])
    key = history_key(cache, tenant_id="t1", conversation_id="c2")
    assert await cache.get_or_load(key, adapter, load, ttl_s=60) == ["v1"]
    await cache.invalidate(key)
    assert await cache.get_or_load(key, adapter, load, ttl_s=60) == ["v2"]


async def test_embedding_keys_depend_on_model_dimensions_and_text(r: redis.Redis) -> None:
    cache = RedisCache(r)
    a = embedding_key(cache, model="m1", dimensions=1536, text="hello")
    assert a.startswith("chatbot:v1:emb:m1:1536:")
    assert a == embedding_key(cache, model="m1", dimensions=1536, text="hello")
    assert a != embedding_key(cache, model="m1", dimensions=512, text="hello")
    assert a != embedding_key(cache, model="m2", dimensions=1536, text="hello")


async def test_a_cache_that_is_down_only_misses() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.1)
    cache, calls = RedisCache(down), []

    async def load() -> Profile:
        calls.append(1)
        return Profile(name="Ada", plan="team")

    for _ in range(2):
        assert (await cache.get_or_load("k", PROFILE, load, ttl_s=60)).name == "Ada"
    assert calls == [1, 1]
    await down.aclose()
