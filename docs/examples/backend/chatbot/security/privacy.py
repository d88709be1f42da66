"""Data classification, PII redaction and consent records.

Redaction is pattern-based and tuned for precision on structured identifiers (e-mail,
phone, card, IBAN, IP). It does not find names or addresses in free text; that needs an
NER model (e.g. Presidio with spaCy) and is a separate, slower stage.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.db.models import Base


# [start:classification]
class DataClass(StrEnum):
    PUBLIC = "public"  # product docs, prices
    INTERNAL = "internal"  # metrics, model ids, token counts
    CONFIDENTIAL = "confidential"  # user ids, conversation titles, API-key metadata
    RESTRICTED = "restricted"  # message content: may hold Art. 9 special-category data


# Where each stored field sits; the erasure test and the log scrubber both read this.
CLASSIFICATION: dict[str, DataClass] = {
    "conversations.title": DataClass.RESTRICTED,  # the first message, truncated
    "messages.content": DataClass.RESTRICTED,
    "messages.input_tokens": DataClass.INTERNAL,
    "conversation_members.subject": DataClass.CONFIDENTIAL,
    "api_keys.owner_id": DataClass.CONFIDENTIAL,
    "consent_records.subject": DataClass.CONFIDENTIAL,
    "audit_events.actor": DataClass.INTERNAL,  # a keyed pseudonym, not the id
}
# [end:classification]

# [start:redact]
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
# Groups must be separated ("+44 20 7946 0958"), so a bare 16-digit order number is no phone.
_PHONE = re.compile(r"(?<![\w+])(\+\d{1,3}[ .-]?)?(\(\d{2,4}\)[ .-]?)?\d{2,4}([ .-]\d{2,4}){2,3}\b")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _iban_ok(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def redact(text: str) -> tuple[str, Counter[str]]:
    """Replace structured identifiers with ``[EMAIL]``-style tags; count what was found.

    Cards must pass Luhn and IBANs mod-97, so order numbers and timestamps survive.
    """
    found: Counter[str] = Counter()

    def sub(tag: str, pattern: re.Pattern[str], check: Callable[[str], bool] | None = None) -> None:
        nonlocal text

        def repl(m: re.Match[str]) -> str:
            value = m.group()
            if check is not None and not check(value):
                return value
            found[tag] += 1
            return f"[{tag}]"

        text = pattern.sub(repl, text)

    sub("EMAIL", _EMAIL)
    sub("IBAN", _IBAN, _iban_ok)
    sub("CARD", _CARD, lambda v: _luhn_ok(re.sub(r"\D", "", v)))
    sub("IP", _IPV4)
    sub("PHONE", _PHONE, lambda v: len(re.sub(r"\D", "", v)) >= 8 and not _ISO_DATE.fullmatch(v))
    return text, found


# [end:redact]


class ConsentRecord(Base):
    """Append-only: a withdrawal is a new row, so the history proves what was agreed when."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    granted: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# [start:consent]
class Purpose(StrEnum):
    """Optional processing only. Answering the user's chat runs on contract (Art. 6(1)(b));
    making *that* depend on consent would mean stopping the service on withdrawal."""

    HISTORY = "history"  # keep conversations beyond the 30-day default
    IMPROVEMENT = "improvement"  # use transcripts in evaluation sets
    ANALYTICS = "analytics"  # product analytics on conversation metadata


class ConsentManager:
    def __init__(self, policy_version: str) -> None:
        self._version = policy_version

    async def set(
        self, session: AsyncSession, subject: str, purpose: Purpose, *, granted: bool
    ) -> None:
        session.add(
            ConsentRecord(
                subject=subject,
                purpose=purpose.value,
                granted=granted,
                policy_version=self._version,
                at=datetime.now(UTC),
            )
        )
        await session.commit()

    async def allows(self, session: AsyncSession, subject: str, purpose: Purpose) -> bool:
        """The latest decision for this purpose under the *current* policy version.

        Consent given to an older policy text does not carry over: a changed purpose
        description needs a fresh yes (Art. 7; EDPB guidelines 05/2020).
        """
        latest = await session.scalar(
            select(ConsentRecord)
            .where(ConsentRecord.subject == subject, ConsentRecord.purpose == purpose.value)
            .order_by(ConsentRecord.id.desc())
            .limit(1)
        )
        return bool(latest and latest.granted and latest.policy_version == self._version)


# [end:consent]
