"""Sessions and multi-device sync on Redis.

A session is a Redis hash with an idle TTL that slides on use, capped by an absolute
lifetime; a per-user sorted set indexes a user's sessions so "sign out everywhere" and
"at most N devices" are one call each. Sync is a per-user Redis stream: every change to a
conversation is appended once, and each device reads from the last event id it saw, so a
phone that was offline for ten minutes catches up with exactly what it missed. When the
stream has been trimmed past that id, the device is told to reload instead of being given
a silently incomplete history.

The client must be created with ``decode_responses=True``.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    user_id: str
    device_id: str
    created_at: float
    last_seen: float
    conversation_id: str


# [start:session-manager]
# Create a session and evict the user's oldest ones beyond the limit, atomically, so two
# logins racing on two devices cannot both squeeze under the cap.
_CREATE = """
local session_key, index_key = KEYS[1], KEYS[2]
local sid, now, idle, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HSET', session_key, 'user_id', ARGV[5], 'device_id', ARGV[6],
           'created_at', now, 'last_seen', now, 'conversation_id', '')
redis.call('EXPIRE', session_key, idle)
redis.call('ZADD', index_key, now, sid)
local evicted = {}
local count = redis.call('ZCARD', index_key)
if count > limit then
  local old = redis.call('ZRANGE', index_key, 0, count - limit - 1)
  for _, id in ipairs(old) do
    redis.call('DEL', ARGV[7] .. id)
    redis.call('ZREM', index_key, id)
    table.insert(evicted, id)
  end
end
redis.call('EXPIRE', index_key, tonumber(ARGV[8]))
return evicted
"""


class SessionManager:
    """Create, touch, read and revoke sessions; idle and absolute expiry; device cap."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        idle_ttl_s: int = 30 * 60,
        absolute_ttl_s: int = 12 * 3600,
        max_sessions_per_user: int = 5,
    ) -> None:
        self._r = client
        self._idle = idle_ttl_s
        self._absolute = absolute_ttl_s
        self._limit = max_sessions_per_user
        self._create = client.register_script(_CREATE)

    async def create(self, user_id: str, device_id: str) -> tuple[Session, list[str]]:
        """Returns the new session and the ids of sessions evicted to respect the cap."""
        sid = secrets.token_urlsafe(32)  # 256 bits: unguessable, never derived from user data
        now = time.time()
        evicted = await self._create(
            keys=[f"sess:{sid}", f"user_sessions:{user_id}"],
            args=[sid, now, self._idle, self._limit, user_id, device_id, "sess:", self._absolute],
        )
        return Session(sid, user_id, device_id, now, now, ""), [str(e) for e in evicted]

    async def get(self, session_id: str) -> Session | None:
        raw = await self._r.hgetall(f"sess:{session_id}")
        data = {str(k): str(v) for k, v in raw.items()}
        if not data:
            return None
        created = float(data["created_at"])
        if time.time() - created > self._absolute:
            await self.revoke(session_id)
            return None
        return Session(
            session_id, data["user_id"], data["device_id"], created,
            float(data["last_seen"]), data["conversation_id"],
        )  # fmt: skip

    async def touch(self, session_id: str, *, conversation_id: str | None = None) -> bool:
        """Slide the idle TTL, never past the absolute deadline. False if the session is gone."""
        session = await self.get(session_id)
        if session is None:
            return False
        now = time.time()
        remaining = int(session.created_at + self._absolute - now)
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(f"sess:{session_id}", "last_seen", now)
            if conversation_id is not None:
                pipe.hset(f"sess:{session_id}", "conversation_id", conversation_id)
            pipe.expire(f"sess:{session_id}", max(1, min(self._idle, remaining)))
            await pipe.execute()
        return True

    async def revoke(self, session_id: str) -> None:
        user_id = await self._r.hget(f"sess:{session_id}", "user_id")
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.delete(f"sess:{session_id}")
            if user_id:
                pipe.zrem(f"user_sessions:{user_id!s}", session_id)
            await pipe.execute()

    async def revoke_all(self, user_id: str) -> int:
        """Sign out everywhere (password change, account compromise, offboarding)."""
        ids = [str(sid) for sid in await self._r.zrange(f"user_sessions:{user_id}", 0, -1)]
        async with self._r.pipeline(transaction=True) as pipe:
            for sid in ids:
                pipe.delete(f"sess:{sid}")
            pipe.delete(f"user_sessions:{user_id}")
            await pipe.execute()
        return len(ids)

    async def active(self, user_id: str) -> list[Session]:
        """Live sessions, pruning index entries whose hash already expired."""
        sessions = []
        for raw in await self._r.zrange(f"user_sessions:{user_id}", 0, -1):
            sid = str(raw)
            session = await self.get(sid)
            if session is None:
                await self._r.zrem(f"user_sessions:{user_id}", sid)
            else:
                sessions.append(session)
        return sessions


# [end:session-manager]


# [start:sync]
@dataclass(frozen=True, slots=True)
class SyncBatch:
    events: list[tuple[str, dict[str, Any]]]
    cursor: str
    resync_required: bool = False


class SyncService:
    """Per-user change feed: append once, every device reads from its own cursor."""

    def __init__(
        self, client: redis.Redis, *, max_events: int = 1000, idle_ttl_s: int = 7 * 24 * 3600
    ) -> None:
        self._r = client
        self._max = max_events
        self._ttl = idle_ttl_s

    @staticmethod
    def key(user_id: str) -> str:
        return f"sync:{user_id}"

    async def publish(self, user_id: str, event: dict[str, Any], *, origin_device: str) -> str:
        """Append a change (message added, conversation renamed...). Returns its id."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.xadd(
                self.key(user_id),
                {"event": json.dumps(event), "origin": origin_device},
                maxlen=self._max,
                approximate=True,
            )
            pipe.expire(self.key(user_id), self._ttl)  # a user idle for a week: stream gone
            event_id, _ = await pipe.execute()
        return str(event_id)

    async def read(
        self, user_id: str, *, device_id: str, cursor: str = "0-0", block_ms: int | None = None
    ) -> SyncBatch:
        """Events after ``cursor``, minus the device's own; tells it to reload if it fell behind."""
        key = self.key(user_id)
        if cursor != "0-0":
            oldest: Any = await self._r.xrange(key, count=1)
            # Trimming removed entries after the cursor: what the device missed is gone.
            if oldest and _older(cursor, str(oldest[0][0])):
                return SyncBatch([], str(oldest[0][0]), resync_required=True)
        response: Any = await self._r.xread({key: cursor}, count=500, block=block_ms)
        events: list[tuple[str, dict[str, Any]]] = []
        new_cursor = cursor
        for _stream, entries in response or []:
            for event_id, fields in entries:
                new_cursor = event_id
                if fields.get("origin") != device_id:
                    events.append((event_id, json.loads(fields["event"])))
        return SyncBatch(events, new_cursor)


def _older(a: str, b: str) -> bool:
    """Stream ids compare as (milliseconds, sequence)."""
    ams, aseq = (int(x) for x in a.split("-"))
    bms, bseq = (int(x) for x in b.split("-"))
    return (ams, aseq) < (bms, bseq)


# [end:sync]
