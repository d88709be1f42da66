"""Human-in-the-loop: pause a run on a risky call, persist it, resume after a decision.

The run's whole state goes to the database when it pauses, so the decision can come
minutes or days later, through another pod, after a deploy. Nothing waits in memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chatbot.agents.base import AgentState
from chatbot.agents.executor import Decision
from chatbot.agents.store import AgentRunRow, ApprovalRow, as_utc


class ApprovalError(Exception):
    """The decision cannot be recorded (unknown, already decided, or expired)."""


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What a reviewer's inbox shows."""

    id: str
    run_id: str
    action: str
    arguments: str
    summary: str
    status: str
    requested_by: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingAction:
    """One action that needs a decision: a tool call or a workflow gate."""

    key: str  # the call id, or the workflow step path
    action: str
    arguments: str
    summary: str


# [start:store]
class ApprovalStore:
    """Runs, their checkpoints and approval requests, in the application's database."""

    def __init__(self, engine: AsyncEngine, *, ttl: timedelta = timedelta(hours=24)) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.ttl = ttl  # an unanswered request expires, which counts as a rejection

    async def checkpoint(self, state: AgentState, status: str) -> None:
        """Save the run after each step: a crash resumes from here, not from scratch."""
        async with self._sessions.begin() as session:
            await _save(session, state, status)

    async def load(self, run_id: str) -> tuple[AgentState, str]:
        async with self._sessions() as session:
            row = await session.get(AgentRunRow, run_id)
            if row is None:
                raise ApprovalError(f"no run {run_id}")
            return AgentState.from_json(row.state), row.status

    async def pause(
        self, state: AgentState, actions: Sequence[PendingAction], *, now: datetime | None = None
    ) -> list[ApprovalRequest]:
        """Persist the paused run and one pending request per action, in one transaction."""
        async with self._sessions.begin() as session:
            await _save(session, state, "awaiting_approval")
            return await self._add(
                session, state.run_id, state.tenant_id, state.user_id, actions, now
            )

    async def request(
        self,
        run_id: str,
        *,
        tenant_id: str,
        user_id: str,
        actions: Sequence[PendingAction],
        now: datetime | None = None,
    ) -> list[ApprovalRequest]:
        """Open requests for a run that keeps its own state (a workflow's checkpoints)."""
        async with self._sessions.begin() as session:
            return await self._add(session, run_id, tenant_id, user_id, actions, now)

    async def _add(
        self,
        session: AsyncSession,
        run_id: str,
        tenant_id: str,
        user_id: str,
        actions: Sequence[PendingAction],
        now: datetime | None,
    ) -> list[ApprovalRequest]:
        now = now or datetime.now(UTC)
        requests = []
        for action in actions:
            row = await session.get(ApprovalRow, f"{run_id}:{action.key}")
            if row is None:  # a repeated pause (crash, retry) keeps the first request
                row = ApprovalRow(
                    id=f"{run_id}:{action.key}",
                    run_id=run_id,
                    tenant_id=tenant_id,
                    requested_by=user_id,
                    action=action.action,
                    arguments=action.arguments,
                    summary=action.summary,
                    status="pending",
                    requested_at=now,
                    expires_at=now + self.ttl,
                )
                session.add(row)
            requests.append(_request(row))
        return requests

    async def inbox(self, tenant_id: str) -> list[ApprovalRequest]:
        """Pending requests of one tenant, oldest first: what reviewers work through."""
        query = (
            select(ApprovalRow)
            .where(ApprovalRow.tenant_id == tenant_id, ApprovalRow.status == "pending")
            .order_by(ApprovalRow.requested_at)
        )
        async with self._sessions() as session:
            return [_request(row) for row in await session.scalars(query)]

    # [end:store]

    # [start:decide]
    async def decide(
        self,
        approval_id: str,
        *,
        approved: bool,
        reviewer: str,
        reason: str = "",
        now: datetime | None = None,
    ) -> ApprovalRequest:
        """Record a decision exactly once.

        The ``WHERE status = 'pending'`` makes it a compare-and-set: two reviewers
        clicking at the same moment, or a double-submitted form, produce one decision
        and one :class:`ApprovalError`, never two executions.
        """
        now = now or datetime.now(UTC)
        async with self._sessions.begin() as session:
            row = await session.get(ApprovalRow, approval_id)
            if row is None:
                raise ApprovalError(f"no approval request {approval_id}")
            if as_utc(row.expires_at) <= now:
                raise ApprovalError(f"{approval_id} expired at {row.expires_at:%Y-%m-%d %H:%M}")
            changed = await session.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id, ApprovalRow.status == "pending")
                .values(
                    status="approved" if approved else "rejected",
                    decided_by=reviewer,
                    decided_at=now,
                    reason=reason,
                )
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise ApprovalError(f"{approval_id} was already decided")
        return await self.get(approval_id)

    async def get(self, approval_id: str) -> ApprovalRequest:
        async with self._sessions() as session:
            row = await session.get(ApprovalRow, approval_id)
            if row is None:
                raise ApprovalError(f"no approval request {approval_id}")
            return _request(row)

    async def decisions(
        self, run_id: str, *, now: datetime | None = None
    ) -> dict[str, Decision | None]:
        """Per action key: the decision, ``None`` while pending; expired means rejected."""
        now = now or datetime.now(UTC)
        async with self._sessions() as session:
            rows = await session.scalars(select(ApprovalRow).where(ApprovalRow.run_id == run_id))
            result: dict[str, Decision | None] = {}
            for row in rows:
                key = row.id.removeprefix(f"{run_id}:")
                if row.status == "pending":
                    expired = as_utc(row.expires_at) <= now
                    result[key] = Decision(False, "system", "expired") if expired else None
                else:
                    result[key] = Decision(
                        row.status == "approved", row.decided_by or "", row.reason or ""
                    )
            return result

    async def claim(self, run_id: str) -> bool:
        """Move a paused run back to running; only one resumer wins."""
        async with self._sessions.begin() as session:
            changed = await session.execute(
                update(AgentRunRow)
                .where(AgentRunRow.id == run_id, AgentRunRow.status == "awaiting_approval")
                .values(status="running")
                .execution_options(synchronize_session=False)
            )
            return bool(changed.rowcount == 1)  # type: ignore[attr-defined]

    # [end:decide]


async def _save(session: AsyncSession, state: AgentState, status: str) -> None:
    row = await session.get(AgentRunRow, state.run_id)
    if row is None:
        session.add(
            AgentRunRow(
                id=state.run_id,
                agent=state.agent,
                tenant_id=state.tenant_id,
                user_id=state.user_id,
                status=status,
                state=state.to_json(),
            )
        )
    else:
        row.status, row.state = status, state.to_json()


def _request(row: ApprovalRow) -> ApprovalRequest:
    return ApprovalRequest(
        id=row.id,
        run_id=row.run_id,
        action=row.action,
        arguments=row.arguments,
        summary=row.summary,
        status=row.status,
        requested_by=row.requested_by,
        expires_at=as_utc(row.expires_at),
    )


def arguments_json(arguments: dict[str, object]) -> str:
    """Canonical JSON of what will run: the reviewer approves these exact bytes."""
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"))
