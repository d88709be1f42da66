"""The workflow engine: sequential, parallel, conditional, approval gates, crash and resume."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from agent_script import say, scripted
from chatbot.agents.approval import ApprovalStore
from chatbot.agents.react import ReActAgent
from chatbot.agents.store import create_agent_tables
from chatbot.agents.workflow import (
    ApprovalGate,
    CheckpointStore,
    Conditional,
    Parallel,
    Sequential,
    Task,
    WorkflowContext,
    WorkflowEngine,
    agent_task,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'wf.db'}")
    await create_agent_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def runs() -> Counter[str]:
    return Counter()


def step(
    name: str, runs: Counter[str], value: Any = None, *, delay: float = 0.0, **options: Any
) -> Task:
    async def run(ctx: WorkflowContext) -> Any:
        runs[name] += 1
        await anyio.sleep(delay)
        return value if value is not None else f"{name} done"

    return Task(name, run, **options)


def make_engine(engine: AsyncEngine) -> WorkflowEngine:
    return WorkflowEngine(CheckpointStore(engine), ApprovalStore(engine))


async def test_sequential_steps_see_earlier_results(engine: AsyncEngine) -> None:
    async def total(ctx: WorkflowContext) -> float:
        return float(sum(ctx.results["lines"]) * (1 + ctx.inputs["vat"]))

    flow = Sequential(
        "invoice",
        [
            Task("lines", lambda ctx: _value([100, 20])),
            Task("total", total),
        ],
    )
    result = await make_engine(engine).run(
        flow, run_id="r1", tenant_id="acme", user_id="u1", inputs={"vat": 0.25}
    )
    assert result.status == "completed"
    assert result.results["total"] == 150.0


async def _value(value: Any) -> Any:
    return value


async def test_parallel_branches_run_concurrently(engine: AsyncEngine, runs: Counter[str]) -> None:
    flow = Parallel("lookups", [step(f"s{i}", runs, delay=0.5) for i in range(4)])
    started = time.monotonic()
    result = await make_engine(engine).run(
        flow, run_id="p1", tenant_id="acme", user_id="u1", inputs={}
    )
    elapsed = time.monotonic() - started
    assert result.status == "completed"
    assert result.results["lookups"] == {f"s{i}": f"s{i} done" for i in range(4)}
    assert elapsed < 1.5  # four 0.5 s steps together, not 2 s in a row


async def test_parallel_limits_concurrency(engine: AsyncEngine, runs: Counter[str]) -> None:
    flow = Parallel(
        "lookups", [step(f"s{i}", runs, delay=0.2) for i in range(4)], max_concurrency=2
    )
    started = time.monotonic()
    await make_engine(engine).run(flow, run_id="p2", tenant_id="acme", user_id="u1", inputs={})
    assert time.monotonic() - started >= 0.4  # two waves of two


async def test_conditional_choice_is_checkpointed(engine: AsyncEngine, runs: Counter[str]) -> None:
    data = {"amount": 40}
    gate = ApprovalGate("manager_ok", lambda ctx: f"Refund USD {ctx.inputs['amount']}")
    flow = Sequential(
        "refund",
        [
            Conditional(
                "route",
                lambda ctx: "small" if data["amount"] < 50 else "large",
                {"small": step("auto_refund", runs), "large": gate},
            ),
            step("notify", runs),
        ],
    )
    wf = make_engine(engine)
    first = await wf.run(flow, run_id="c1", tenant_id="acme", user_id="u1", inputs=data)
    assert first.status == "completed"
    data["amount"] = 500  # the data changes; a rerun of the same run keeps its branch
    again = await wf.run(flow, run_id="c1", tenant_id="acme", user_id="u1", inputs=data)
    assert again.status == "completed"
    assert runs == Counter({"auto_refund": 1, "notify": 1})  # nothing ran twice


async def test_approval_gate_pauses_and_resumes(engine: AsyncEngine, runs: Counter[str]) -> None:
    gate = ApprovalGate("manager_ok", lambda ctx: f"Refund USD {ctx.inputs['amount']}")
    flow = Sequential(
        "refund",
        [
            step("load_order", runs),
            Parallel("checks", [step("fraud_check", runs), gate]),
            Conditional(
                "decide",
                lambda ctx: "pay" if ctx.results["manager_ok"]["approved"] else "decline",
                {"pay": step("pay", runs), "decline": step("decline", runs)},
            ),
        ],
    )
    wf = make_engine(engine)
    inputs = {"amount": 500}
    paused = await wf.run(flow, run_id="g1", tenant_id="acme", user_id="u1", inputs=inputs)
    assert paused.status == "paused"
    [request] = paused.pending
    assert request.summary == "Refund USD 500"
    assert runs == Counter({"load_order": 1, "fraud_check": 1})  # the sibling finished

    store = ApprovalStore(engine)
    await store.decide(request.id, approved=True, reviewer="manager@acme")
    done = await wf.run(flow, run_id="g1", tenant_id="acme", user_id="u1", inputs=inputs)
    assert done.status == "completed"
    assert done.results["manager_ok"] == {"approved": True, "by": "manager@acme", "reason": ""}
    assert runs == Counter({"load_order": 1, "fraud_check": 1, "pay": 1})


async def test_a_crash_resumes_after_the_last_checkpoint(
    engine: AsyncEngine, runs: Counter[str]
) -> None:
    flow = Sequential(
        "onboard",
        [step("create_account", runs), step("send_welcome", runs, delay=5), step("done", runs)],
    )
    wf = make_engine(engine)
    with anyio.move_on_after(0.5):  # the pod dies while send_welcome is running
        await wf.run(flow, run_id="k1", tenant_id="acme", user_id="u1", inputs={})
    assert runs == Counter({"create_account": 1, "send_welcome": 1})

    fast = Sequential(
        "onboard",
        [step("create_account", runs), step("send_welcome", runs), step("done", runs)],
    )
    result = await wf.run(fast, run_id="k1", tenant_id="acme", user_id="u1", inputs={})
    assert result.status == "completed"
    # create_account is not repeated; send_welcome, which never checkpointed, runs again:
    # which is why a step's side effect takes ctx.key(step) as its idempotency key.
    assert runs == Counter({"create_account": 1, "send_welcome": 2, "done": 1})


async def test_failure_compensates_in_reverse_and_stays_failed(engine: AsyncEngine) -> None:
    undone: list[str] = []

    def undo(name: str) -> Callable[[WorkflowContext, Any], Awaitable[None]]:
        async def compensate(ctx: WorkflowContext, result: Any) -> None:
            undone.append(f"{name}:{result}")

        return compensate

    attempts: list[float] = []

    async def fail(ctx: WorkflowContext) -> None:
        attempts.append(time.monotonic())
        raise RuntimeError("calendar API returned 503")

    flow = Sequential(
        "book",
        [
            Task("hold_slot", lambda ctx: _value("slot-7"), compensate=undo("hold_slot")),
            Task("invite", lambda ctx: _value("inv-3"), compensate=undo("invite")),
            Task("open_ticket", fail, retries=1),
        ],
    )
    wf = make_engine(engine)
    result = await wf.run(flow, run_id="s1", tenant_id="acme", user_id="u1", inputs={})
    assert result.status == "failed"
    assert result.error == "RuntimeError: calendar API returned 503"
    assert len(attempts) == 2  # retried once, after a 0.1 s backoff, before compensating
    assert attempts[1] - attempts[0] >= 0.1
    assert undone == ["invite:inv-3", "hold_slot:slot-7"]
    again = await wf.run(flow, run_id="s1", tenant_id="acme", user_id="u1", inputs={})
    assert again.status == "failed"
    assert undone == ["invite:inv-3", "hold_slot:slot-7"]  # not compensated twice


async def test_an_agent_as_a_workflow_step(engine: AsyncEngine) -> None:
    provider, replay = scripted("anthropic", [say("Category: billing")])
    triage = ReActAgent("triage", provider, instructions="Classify the ticket.")
    flow = Sequential(
        "ticket",
        [
            agent_task("classify", triage, lambda ctx: f"Classify: {ctx.inputs['text']}"),
            Conditional(
                "route",
                lambda ctx: "billing" if "billing" in ctx.results["classify"]["answer"] else "tech",
                {"billing": Task("billing_queue", lambda ctx: _value("queued"))},
            ),
        ],
    )
    result = await make_engine(engine).run(
        flow, run_id="t1", tenant_id="acme", user_id="u1", inputs={"text": "I was charged twice"}
    )
    assert result.status == "completed"
    assert result.results["billing_queue"] == "queued"
    assert replay.body(0)["messages"] == [
        {"role": "user", "content": "Classify: I was charged twice"}
    ]


def test_step_names_must_be_unique() -> None:
    flow = Sequential("a", [Task("b", lambda ctx: _value(1)), Task("b", lambda ctx: _value(2))])
    with pytest.raises(ValueError, match="repeated"):
        anyio.run(
            lambda: WorkflowEngine(CheckpointStore(create_async_engine("sqlite+aiosqlite://"))).run(
                flow, run_id="x", tenant_id="t", user_id="u", inputs={}
            )
        )
