"""Durable background work on Redis Streams: producer, consumer group, ack, reclaim.

A stream keeps every entry until it is trimmed; a consumer group hands each entry to
one consumer and remembers it in the group's pending entries list (PEL) until that
consumer acknowledges it. An entry whose consumer died stays pending: another
consumer takes it over with ``XAUTOCLAIM`` once it has been idle long enough, and an
entry that keeps failing is moved to a dead-letter stream instead of looping forever.
The client must be created with ``decode_responses=True``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import redis.asyncio as redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from chatbot.architecture.events import Event, encode_event

logger = logging.getLogger(__name__)

MessageHandler = Callable[[str, dict[str, str]], Awaitable[None]]
Entries = list[tuple[str, dict[str, str]]]


# [start:producer]
class StreamProducer:
    """Append events to a stream, capped near ``maxlen`` entries.

    ``approximate=True`` (``MAXLEN ~``) lets Redis trim whole macro-nodes, which costs
    almost nothing; an exact cap rewrites a node on every append.
    """

    def __init__(self, client: redis.Redis, stream: str, *, maxlen: int = 100_000) -> None:
        self._client = client
        self.stream = stream
        self._maxlen = maxlen

    async def publish(self, event: Event) -> str:
        """Append ``event``; returns its stream id (``<ms>-<seq>``)."""
        # redis-py types fields as a union; copying into an annotated dict satisfies mypy
        fields: dict[FieldT, EncodableT] = {k: v for k, v in encode_event(event).items()}
        entry_id = await self._client.xadd(
            self.stream, fields, maxlen=self._maxlen, approximate=True
        )
        return str(entry_id)


# [end:producer]


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """How one consumer reads, when it steals stuck work and when it gives up."""

    stream: str
    group: str
    consumer: str
    batch: int = 16
    block_ms: int = 2_000
    # Longer than the slowest healthy handler, or two consumers process the same entry.
    min_idle_ms: int = 60_000
    max_deliveries: int = 5
    dead_letter_stream: str | None = None


# [start:consumer]
class StreamConsumer:
    """One member of a consumer group: read new entries, reclaim stuck ones, ack."""

    def __init__(
        self, client: redis.Redis, config: ConsumerConfig, handler: MessageHandler
    ) -> None:
        self._client = client
        self.config = config
        self._handler = handler
        self.dead_letter_stream = config.dead_letter_stream or f"{config.stream}:dead"

    async def ensure_group(self) -> None:
        """Create the group (and the stream) once; every replica calls this on start."""
        try:
            await self._client.xgroup_create(
                self.config.stream, self.config.group, id="0", mkstream=True
            )
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):  # the group already exists: fine
                raise

    async def read_new(self) -> int:
        """Handle entries never delivered to anyone (``>``); returns how many were read."""
        cfg = self.config
        response = await self._client.xreadgroup(
            cfg.group, cfg.consumer, {cfg.stream: ">"}, count=cfg.batch, block=cfg.block_ms
        )
        handled = 0
        for _stream, entries in cast(list[tuple[str, Entries]], response or []):
            for entry_id, fields in entries:
                await self._handle(entry_id, fields)
                handled += 1
        return handled

    async def reclaim_stuck(self) -> int:
        """Take over entries idle longer than ``min_idle_ms``; dead-letter repeat failures."""
        cfg = self.config
        # XAUTOCLAIM: [next start id, [(id, fields), ...], [ids deleted meanwhile]]
        reply = await self._client.xautoclaim(
            cfg.stream, cfg.group, cfg.consumer, cfg.min_idle_ms, "0-0", count=cfg.batch
        )
        claimed = cast(Entries, reply[1])
        if not claimed:
            return 0
        deliveries = await self._delivery_counts([entry_id for entry_id, _ in claimed])
        for entry_id, fields in claimed:
            if deliveries.get(entry_id, 0) > cfg.max_deliveries:
                await self._dead_letter(entry_id, fields, deliveries[entry_id])
            else:
                await self._handle(entry_id, fields)
        return len(claimed)

    async def run(self, stop: asyncio.Event, *, reclaim_every_s: float = 30.0) -> None:
        """Loop until ``stop`` is set: reclaim now and then, otherwise block for new work."""
        await self.ensure_group()
        loop = asyncio.get_running_loop()
        next_reclaim = loop.time()
        while not stop.is_set():
            if loop.time() >= next_reclaim:
                await self.reclaim_stuck()
                next_reclaim = loop.time() + reclaim_every_s
            await self.read_new()

    async def _handle(self, entry_id: str, fields: dict[str, str]) -> None:
        try:
            await self._handler(entry_id, fields)
        except Exception:
            # No ack: the entry stays pending and is retried by reclaim_stuck.
            logger.exception("stream handler failed", extra={"entry_id": entry_id})
            return
        await self._client.xack(self.config.stream, self.config.group, entry_id)

    async def _delivery_counts(self, entry_ids: list[str]) -> dict[str, int]:
        pending = await self._client.xpending_range(
            self.config.stream,
            self.config.group,
            min=entry_ids[0],
            max=entry_ids[-1],
            count=len(entry_ids),
            consumername=self.config.consumer,
        )
        return {str(p["message_id"]): int(p["times_delivered"]) for p in pending}

    async def _dead_letter(self, entry_id: str, fields: dict[str, str], deliveries: int) -> None:
        # Copy first, ack second: a crash in between duplicates the entry, never loses it.
        copy: dict[FieldT, EncodableT] = {k: v for k, v in fields.items()}
        copy["original_id"] = entry_id
        copy["deliveries"] = deliveries
        await self._client.xadd(self.dead_letter_stream, copy)
        await self._client.xack(self.config.stream, self.config.group, entry_id)
        logger.error("entry dead-lettered", extra={"entry_id": entry_id})


# [end:consumer]
