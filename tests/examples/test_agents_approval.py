"""Human-in-the-loop: a run pauses on a risky call, survives a restart, resumes once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from agent_script import VENDORS, Turn, Vendor, call, say, scripted, tool_results
from chatbot.agents.approval import ApprovalError, ApprovalStore
from chatbot.agents.calculator import CalculatorTool
from chatbot.agents.react import ReActAgent
from chatbot.agents.store import create_agent_tables
from chatbot.agents.tools import Tool, ToolContext
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'agents.db'}"


async def engine_for(url: str) -> AsyncEngine:
    engine = create_async_engine(url)
    await create_agent_tables(engine)
    return engine


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await engine_for(db_url)
    yield engine
    await engine.dispose()


class Refund(BaseModel):
    """Refund an order, fully or in part."""

    order_id: str
    amount: float = Field(gt=0)


REFUNDS: list[tuple[str, float, str]] = []  # what the "payment system" executed


class RefundTool(Tool[Refund]):
    name = "refund_order"
    Args = Refund
    requires_approval = True

    async def run(self, args: Refund, ctx: ToolContext) -> str:
        REFUNDS.append((args.order_id, args.amount, ctx.idempotency_key))
        return f"Refunded USD {args.amount:.2f} on {args.order_id}."

    def summary(self, args: Refund) -> str:
        return f"Refund USD {args.amount:.2f} on order {args.order_id}"


@pytest.fixture(autouse=True)
def _no_refunds() -> None:
    REFUNDS.clear()


def support(vendor: Vendor, turns: list[Turn], store: ApprovalStore) -> tuple[ReActAgent, Any]:
    provider, replay = scripted(vendor, turns)
    agent = ReActAgent(
        "support",
        provider,
        instructions="Refund when asked.",
        tools=[RefundTool(), CalculatorTool()],
        store=store,
    )
    return agent, replay


REFUND_STEP = Turn(
    calls=[
        ("c1", "calculator", {"expression": "120 * 0.25"}),
        ("c2", "refund_order", {"order_id": "A-1042", "amount": 30}),
    ]
)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_pause_then_resume_in_a_new_process(vendor: Vendor, db_url: str) -> None:
    # Process 1: the run reaches the refund and pauses.
    first = await engine_for(db_url)
    agent, replay = support(vendor, [REFUND_STEP], ApprovalStore(first))
    paused = await agent.run("Refund 25% of order A-1042", tenant_id="acme", user_id="u1")
    assert paused.stop == "awaiting_approval"
    assert [c.name for c in paused.pending] == ["refund_order"]
    assert REFUNDS == []  # nothing ran
    [request] = await ApprovalStore(first).inbox("acme")
    assert request.summary == "Refund USD 30.00 on order A-1042"
    assert request.arguments == '{"amount":30,"order_id":"A-1042"}'
    assert await ApprovalStore(first).inbox("globex") == []
    await first.dispose()

    # A reviewer decides, through another pod.
    second = await engine_for(db_url)
    store = ApprovalStore(second)
    await store.decide(request.id, approved=True, reviewer="lead@acme")
    with pytest.raises(ApprovalError, match="already decided"):
        await store.decide(request.id, approved=False, reviewer="other@acme")

    # Process 2: a fresh agent resumes from the database alone.
    agent, replay = support(vendor, [say("Done: USD 30.00 refunded.")], store)
    result = await agent.resume(paused.run_id)
    assert result.stop == "answered"
    assert result.answer == "Done: USD 30.00 refunded."
    assert [("A-1042", 30.0, f"{paused.run_id}:c2")] == REFUNDS
    # Both results of the paused step went back, in call order, in one request.
    results = tool_results(vendor, replay.body(0))
    assert [(r[0], r[1]) for r in results] == [
        ("c1", "30"),
        ("c2", "Refunded USD 30.00 on A-1042."),
    ]
    with pytest.raises(ApprovalError, match="not awaiting approval"):
        await agent.resume(paused.run_id)  # a second resume cannot run it again
    assert len(REFUNDS) == 1
    await second.dispose()


async def test_a_rejection_goes_back_to_the_model(engine: AsyncEngine) -> None:
    store = ApprovalStore(engine)
    agent, _ = support("anthropic", [REFUND_STEP], store)
    paused = await agent.run("Refund", tenant_id="acme", user_id="u1")
    [request] = await store.inbox("acme")
    await store.decide(request.id, approved=False, reviewer="lead@acme", reason="over limit")

    agent, replay = support("anthropic", [say("The refund was not approved.")], store)
    result = await agent.resume(paused.run_id)
    assert result.answer == "The refund was not approved."
    assert REFUNDS == []
    rejected = tool_results("anthropic", replay.body(0))[1]
    assert rejected[1].startswith("A reviewer (lead@acme) rejected this action: over limit.")
    assert rejected[2]  # is_error


async def test_resume_before_a_decision_changes_nothing(engine: AsyncEngine) -> None:
    store = ApprovalStore(engine)
    agent, _ = support("openai", [REFUND_STEP], store)
    paused = await agent.run("Refund", tenant_id="acme", user_id="u1")
    agent, replay = support("openai", [], store)
    again = await agent.resume(paused.run_id)
    assert again.stop == "awaiting_approval"
    assert replay.requests == []  # no model call
    assert REFUNDS == []


async def test_an_expired_request_counts_as_rejected(engine: AsyncEngine) -> None:
    store = ApprovalStore(engine, ttl=timedelta(minutes=30))
    agent, _ = support("openai", [REFUND_STEP], store)
    paused = await agent.run("Refund", tenant_id="acme", user_id="u1")
    [request] = await store.inbox("acme")
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(ApprovalError, match="expired"):
        await store.decide(request.id, approved=True, reviewer="lead@acme", now=later)
    decisions = await store.decisions(paused.run_id, now=later)
    assert [(d.approved, d.reason) for d in decisions.values() if d] == [(False, "expired")]


def test_approval_tools_require_a_store() -> None:
    provider, _ = scripted("openai", [])
    with pytest.raises(ValueError, match="need approval but no ApprovalStore"):
        ReActAgent("x", provider, instructions="", tools=[RefundTool()])


class ThresholdRefund(RefundTool):
    """Refunds up to USD 50 run at once; larger ones wait for a person."""

    def needs_approval(self, args: Refund) -> bool:
        return args.amount > 50


async def test_only_calls_over_the_threshold_wait(engine: AsyncEngine) -> None:
    store = ApprovalStore(engine)
    provider, _ = scripted(
        "openai",
        [
            call("refund_order", {"order_id": "A-1", "amount": 20}, "c1"),
            call("refund_order", {"order_id": "A-2", "amount": 80}, "c2"),
        ],
    )
    agent = ReActAgent(
        "support", provider, instructions="x", tools=[ThresholdRefund()], store=store
    )
    result = await agent.run("Refund both", tenant_id="acme", user_id="u1")
    assert result.stop == "awaiting_approval"
    assert [("A-1", 20.0, f"{result.run_id}:c1")] == REFUNDS  # ran without asking anyone
    [request] = await store.inbox("acme")
    assert request.summary == "Refund USD 80.00 on order A-2"
