"""A supervisor delegating to specialists, each on its own scripted provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_script import Turn, call, say, scripted, tool_results
from chatbot.agents.approval import ApprovalStore
from chatbot.agents.base import AgentLimits
from chatbot.agents.budget import TokenBudget
from chatbot.agents.calculator import CalculatorTool
from chatbot.agents.coordinator import AgentTool, Coordinator
from chatbot.agents.react import ReActAgent
from chatbot.agents.tools import ToolContext
from sqlalchemy.ext.asyncio import create_async_engine
from test_agents_approval import RefundTool

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_supervisor_delegates_in_parallel_and_shares_one_budget() -> None:
    billing_provider, billing_wire = scripted(
        "anthropic",
        [
            call("calculator", {"expression": "49 * 12 * 0.85"}, "b1", input_tokens=200),
            say("Pro costs USD 499.80 a year with annual billing.", input_tokens=260),
        ],
    )
    billing = ReActAgent(
        "billing",
        billing_provider,
        instructions="You know prices and invoices.",
        tools=[CalculatorTool()],
        description="Prices, invoices and refunds.",
    )
    sso_provider, sso_wire = scripted(
        "vllm", [say("SSO needs the Team plan or above.", input_tokens=150)]
    )
    sso = ReActAgent(
        "identity",
        sso_provider,
        instructions="You know SSO and SCIM.",
        description="Single sign-on, SCIM and user provisioning.",
    )
    supervisor_provider, supervisor_wire = scripted(
        "openai",
        [
            Turn(
                calls=[
                    ("s1", "ask_billing", {"task": "Yearly price of Pro, annual billing?"}),
                    ("s2", "ask_identity", {"task": "Which plans include SSO?"}),
                ],
                input_tokens=400,
            ),
            say("Pro is USD 499.80 a year and includes SSO.", input_tokens=600),
        ],
    )
    supervisor = Coordinator(
        "supervisor",
        supervisor_provider,
        specialists=[billing, sso],
        instructions="Answer the customer; delegate to specialists.",
    )
    budget = TokenBudget(20_000)
    result = await supervisor.run(
        "How much is Pro per year and does it have SSO?",
        tenant_id="acme",
        user_id="u1",
        budget=budget,
        run_id="r1",
    )

    assert result.stop == "answered"
    assert result.answer == "Pro is USD 499.80 a year and includes SSO."
    # Specialists see only their task, never the customer's conversation.
    assert billing_wire.body(0)["messages"] == [
        {"role": "user", "content": "Yearly price of Pro, annual billing?"}
    ]
    assert sso_wire.body(0)["messages"][-1] == {
        "role": "user",
        "content": "Which plans include SSO?",
    }
    answers = dict((r[0], r[1]) for r in tool_results("openai", supervisor_wire.body(1)))
    assert answers == {
        "s1": "Pro costs USD 499.80 a year with annual billing.",
        "s2": "SSO needs the Team plan or above.",
    }
    # One budget for the tree: every model call of every agent was charged to it.
    assert budget.used == (400 + 20) + (600 + 20) + (200 + 20) + (260 + 20) + (150 + 20)
    # The supervisor's roster names each specialist with its description.
    assert "- ask_identity: Single sign-on, SCIM" in supervisor_wire.body(0)["instructions"]


async def test_a_spent_budget_stops_the_specialist() -> None:
    provider, wire = scripted("openai", [])
    specialist = ReActAgent("billing", provider, instructions="x", description="Prices.")
    tool = AgentTool(specialist)
    ctx = ToolContext("acme", "u1", "r1", "s1", budget=TokenBudget(100, used=95))
    with pytest.raises(Exception, match="shared token budget is spent"):
        await tool.run(tool.validate({"task": "price?"}), ctx)
    assert wire.requests == []


async def test_delegation_depth_is_limited() -> None:
    provider, wire = scripted("openai", [])
    tool = AgentTool(ReActAgent("deep", provider, instructions="x", description="x"))
    ctx = ToolContext("acme", "u1", "r1.s1.t1", "u1", budget=TokenBudget(10_000))
    with pytest.raises(Exception, match="too deep"):
        await tool.run(tool.validate({"task": "anything"}), ctx)
    assert wire.requests == []


def test_specialists_with_approval_tools_are_refused(tmp_path: Path) -> None:
    store = ApprovalStore(create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    provider, _ = scripted("openai", [])
    refunds = ReActAgent(
        "refunds", provider, instructions="x", tools=[RefundTool()], store=store, description="x"
    )
    with pytest.raises(ValueError, match="need approval"):
        Coordinator("sup", provider, specialists=[refunds], instructions="x", limits=AgentLimits())
