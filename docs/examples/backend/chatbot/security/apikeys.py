"""API keys for server-to-server clients: shown once, stored as a keyed hash, revocable.

Format: ``cb_live_<key id>_<secret><checksum>``. The fixed prefix lets secret scanners
(GitHub push protection, gitleaks) recognise a leaked key; the CRC-32 checksum lets them
reject random look-alikes without calling us; the key id finds the row without a scan.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.db.models import Base

PREFIX = "cb_live_"
_ALPHABET = string.ascii_letters + string.digits


class ApiKey(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(255))  # space-separated, like OAuth
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    key_id: str
    owner_id: str
    scopes: frozenset[str]


# [start:apikeys]
def _b62(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(reversed(out))


def _checksum(body: str) -> str:
    return _b62(zlib.crc32(body.encode()), 6)


class ApiKeyManager:
    """Issue, verify and revoke keys. Only ``HMAC-SHA256(pepper, secret)`` is stored.

    A 190-bit random secret cannot be brute-forced, so a fast keyed hash is enough; a slow
    password hash (argon2) would add ~50 ms of CPU to every API call for no gain. The pepper
    lives outside the database, so a leaked table cannot be used to check guesses.
    """

    def __init__(self, pepper: bytes) -> None:
        if len(pepper) < 32:
            raise ValueError("the API-key pepper must be at least 32 bytes")
        self._pepper = pepper

    def _digest(self, secret: str) -> str:
        return hmac.new(self._pepper, secret.encode(), hashlib.sha256).hexdigest()

    async def issue(
        self,
        session: AsyncSession,
        *,
        owner_id: str,
        name: str,
        scopes: frozenset[str],
        ttl: timedelta | None = timedelta(days=90),
    ) -> str:
        """Create a key and return it; this is the only time the full key exists."""
        key_id = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        secret = "".join(secrets.choice(_ALPHABET) for _ in range(32))
        now = datetime.now(UTC)
        session.add(
            ApiKey(
                key_id=key_id,
                owner_id=owner_id,
                name=name,
                scopes=" ".join(sorted(scopes)),
                digest=self._digest(secret),
                created_at=now,
                expires_at=now + ttl if ttl else None,
            )
        )
        await session.commit()
        body = f"{PREFIX}{key_id}_{secret}"
        return body + _checksum(body)

    async def verify(self, session: AsyncSession, presented: str) -> VerifiedKey | None:
        """The key's owner and scopes, or None for any malformed, unknown or dead key."""
        if not presented.startswith(PREFIX) or len(presented) != len(PREFIX) + 12 + 1 + 32 + 6:
            return None
        body, check = presented[:-6], presented[-6:]
        if not hmac.compare_digest(check, _checksum(body)):
            return None  # a typo or a scanner's false positive: no database round trip
        key_id, _, secret = body[len(PREFIX) :].partition("_")
        row = await session.get(ApiKey, key_id)
        if row is None or not hmac.compare_digest(row.digest, self._digest(secret)):
            return None
        now = datetime.now(UTC)
        if row.revoked_at is not None or (row.expires_at and _aware(row.expires_at) <= now):
            return None
        row.last_used_at = now  # coarse usage data for "unused for 30 days" clean-ups
        await session.commit()
        return VerifiedKey(row.key_id, row.owner_id, frozenset(row.scopes.split()))

    async def revoke(self, session: AsyncSession, *, owner_id: str, key_id: str) -> bool:
        row = await session.get(ApiKey, key_id)
        if row is None or row.owner_id != owner_id:
            return False  # someone else's key looks exactly like a missing one
        row.revoked_at = datetime.now(UTC)
        await session.commit()
        return True

    async def list_keys(self, session: AsyncSession, owner_id: str) -> list[ApiKey]:
        rows = await session.scalars(select(ApiKey).where(ApiKey.owner_id == owner_id))
        return list(rows)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes even for timezone=True columns; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# [end:apikeys]
