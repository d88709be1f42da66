"""Tables for paused agent runs, approval requests and workflow checkpoints.

Kept on their own metadata so the agents package can be adopted without the chat
schema; production migrates them with the rest (``create_agent_tables`` is for tests
and the local quick start).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String, Text, func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class AgentBase(DeclarativeBase):
    """Metadata of the agent tables."""


# [start:tables]
class AgentRunRow(AgentBase):
    """One agent run; ``state`` is :meth:`AgentState.to_json` at its last checkpoint."""

    __tablename__ = "agent_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))  # running, awaiting_approval, finished
    state: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ApprovalRow(AgentBase):
    """A tool call (or workflow gate) waiting for a person; decided exactly once."""

    __tablename__ = "agent_approvals"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)  # "<run_id>:<call_id>"
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))  # tool name or workflow step
    arguments: Mapped[str] = mapped_column(Text)  # JSON, exactly what will run
    summary: Mapped[str] = mapped_column(Text)  # what the reviewer reads
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)


class CheckpointRow(AgentBase):
    """The JSON result of one completed workflow step, so a rerun skips it."""

    __tablename__ = "workflow_checkpoints"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[str] = mapped_column(String(200), primary_key=True)  # path: "triage/refund"
    result: Mapped[str] = mapped_column(Text)


# [end:tables]


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes even for ``timezone=True`` columns: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def create_agent_tables(engine: AsyncEngine) -> None:
    """Create the tables if missing (tests and the quick start; production migrates)."""
    async with engine.begin() as connection:
        await connection.run_sync(AgentBase.metadata.create_all)
