"""A small workflow engine: sequential, parallel and conditional steps, checkpointed.

A workflow is a tree of steps built in code. The engine runs it and stores each leaf's
JSON result under the step's path; run it again with the same ``run_id`` (after a
crash, a deploy, or an approval) and completed steps are read back instead of re-run.
That one rule gives resumption, human approval gates, and saga compensation that
survives a restart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from chatbot.agents.approval import ApprovalRequest, ApprovalStore, PendingAction
from chatbot.agents.base import BaseAgent
from chatbot.agents.store import CheckpointRow

logger = logging.getLogger(__name__)


# [start:steps]
@dataclass
class WorkflowContext:
    """What steps read: the run's inputs and the results of the steps before them."""

    run_id: str
    tenant_id: str
    user_id: str
    inputs: Mapping[str, Any]
    results: dict[str, Any] = field(default_factory=dict)  # by step name

    def key(self, step: str) -> str:
        """Idempotency key for a side effect of ``step`` in this run."""
        return f"{self.run_id}:{step}"


StepFn = Callable[[WorkflowContext], Awaitable[Any]]


@dataclass(frozen=True)
class Task:
    """A leaf: an async function whose JSON-serialisable result is checkpointed.

    ``compensate`` undoes it (given its result) when a later step of the enclosing
    :class:`Sequential` fails; it must be idempotent, because a crash mid-compensation
    runs it again.
    """

    name: str
    run: StepFn
    retries: int = 0
    timeout_s: float = 30.0
    compensate: Callable[[WorkflowContext, Any], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Sequential:
    """Children in order; each sees the results of the ones before it."""

    name: str
    steps: Sequence[Step]


@dataclass(frozen=True)
class Parallel:
    """Children concurrently, at most ``max_concurrency`` at a time.

    The first failure cancels the others (their finished results stay checkpointed);
    a child waiting for approval lets its siblings finish before the run pauses.
    """

    name: str
    steps: Sequence[Step]
    max_concurrency: int = 4


@dataclass(frozen=True)
class Conditional:
    """Runs the branch ``choose`` names. The choice is checkpointed too, so a resumed
    run takes the same branch even if the data the predicate reads has changed."""

    name: str
    choose: Callable[[WorkflowContext], str]
    branches: Mapping[str, Step]


@dataclass(frozen=True)
class ApprovalGate:
    """Pauses the run until a person decides; the result is ``{"approved": bool, ...}``."""

    name: str
    summary: Callable[[WorkflowContext], str]


Step = Task | Sequential | Parallel | Conditional | ApprovalGate
# [end:steps]


@dataclass(frozen=True)
class WorkflowResult:
    status: Literal["completed", "paused", "failed"]
    results: dict[str, Any]
    error: str | None = None
    pending: list[ApprovalRequest] = field(default_factory=list)


class _Paused(Exception):
    def __init__(self, actions: list[PendingAction]) -> None:
        super().__init__(f"{len(actions)} approval(s) pending")
        self.actions = actions


class CheckpointStore:
    """Step results by ``(run_id, path)``; the first write of a path wins."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def load(self, run_id: str) -> dict[str, Any]:
        query = select(CheckpointRow).where(CheckpointRow.run_id == run_id)
        async with self._sessions() as session:
            return {row.step: json.loads(row.result) for row in await session.scalars(query)}

    async def save(self, run_id: str, path: str, value: Any) -> None:
        try:
            async with self._sessions.begin() as session:
                session.add(CheckpointRow(run_id=run_id, step=path, result=json.dumps(value)))
        except IntegrityError:  # a concurrent resumer finished the same step first
            logger.info("checkpoint exists", extra={"run_id": run_id, "step": path})


# [start:engine]
class WorkflowEngine:
    """Runs a step tree for one ``run_id``; call :meth:`run` again to resume it."""

    def __init__(self, checkpoints: CheckpointStore, approvals: ApprovalStore | None = None):
        self.checkpoints = checkpoints
        self.approvals = approvals

    async def run(
        self,
        workflow: Step,
        *,
        run_id: str,
        tenant_id: str,
        user_id: str,
        inputs: Mapping[str, Any],
    ) -> WorkflowResult:
        _check_names(workflow)
        ctx = WorkflowContext(run_id, tenant_id, user_id, inputs)
        done = await self.checkpoints.load(run_id)
        if "!failed" in done:  # compensated already: retrying would act on undone work
            return WorkflowResult("failed", {}, error=done["!failed"])
        decisions = await self.approvals.decisions(run_id) if self.approvals else {}
        try:
            await self._step(workflow, ctx, workflow.name, done, decisions)
        except _Paused as paused:
            if self.approvals is None:
                raise RuntimeError("an ApprovalGate needs an ApprovalStore") from None
            pending = await self.approvals.request(
                run_id, tenant_id=tenant_id, user_id=user_id, actions=paused.actions
            )
            return WorkflowResult("paused", ctx.results, pending=pending)
        except Exception as exc:
            logger.exception("workflow failed", extra={"run_id": run_id})
            error = f"{type(exc).__name__}: {exc}"
            await self.checkpoints.save(run_id, "!failed", error)
            return WorkflowResult("failed", ctx.results, error=error)
        return WorkflowResult("completed", ctx.results)

    async def _step(
        self,
        step: Step,
        ctx: WorkflowContext,
        path: str,
        done: dict[str, Any],
        decisions: Mapping[str, Any],
    ) -> Any:
        if isinstance(step, Task):
            result = done[path] if path in done else await self._task(step, ctx, path)
        elif isinstance(step, Sequential):
            result = await self._sequence(step, ctx, path, done, decisions)
        elif isinstance(step, Parallel):
            result = await self._parallel(step, ctx, path, done, decisions)
        elif isinstance(step, Conditional):
            choice = done.get(f"{path}?")
            if choice is None:
                choice = step.choose(ctx)
                await self.checkpoints.save(ctx.run_id, f"{path}?", choice)
            result = await self._step(
                step.branches[choice], ctx, f"{path}/{choice}", done, decisions
            )
        else:
            result = self._gate(step, ctx, path, decisions)
        ctx.results[step.name] = result
        return result

    # [end:engine]

    # [start:patterns]
    async def _task(self, task: Task, ctx: WorkflowContext, path: str) -> Any:
        for attempt in range(task.retries + 1):
            try:
                with anyio.fail_after(task.timeout_s):
                    result = await task.run(ctx)
                break
            except Exception:
                if attempt == task.retries:
                    raise
                logger.warning("step failed, retrying", extra={"step": path}, exc_info=True)
                await anyio.sleep(0.1 * 2**attempt)
        await self.checkpoints.save(ctx.run_id, path, result)
        return result

    async def _sequence(
        self,
        seq: Sequential,
        ctx: WorkflowContext,
        path: str,
        done: dict[str, Any],
        decisions: Mapping[str, Any],
    ) -> Any:
        completed: list[tuple[Task, str]] = []
        result: Any = None
        for child in seq.steps:
            child_path = f"{path}/{child.name}"
            try:
                result = await self._step(child, ctx, child_path, done, decisions)
            except _Paused:
                raise
            except Exception:
                await self._compensate(completed, ctx, done)
                raise
            if isinstance(child, Task):
                completed.append((child, child_path))
        return result

    async def _compensate(
        self, completed: list[tuple[Task, str]], ctx: WorkflowContext, done: dict[str, Any]
    ) -> None:
        """Undo finished tasks in reverse; each undo is checkpointed so it runs once."""
        for task, path in reversed(completed):
            undo = f"{path}!undo"
            if task.compensate is None or undo in done:
                continue
            await task.compensate(ctx, ctx.results[task.name])
            await self.checkpoints.save(ctx.run_id, undo, True)

    async def _parallel(
        self,
        par: Parallel,
        ctx: WorkflowContext,
        path: str,
        done: dict[str, Any],
        decisions: Mapping[str, Any],
    ) -> dict[str, Any]:
        limiter = anyio.CapacityLimiter(par.max_concurrency)
        paused: list[PendingAction] = []

        async def branch(child: Step) -> None:
            async with limiter:
                try:
                    await self._step(child, ctx, f"{path}/{child.name}", done, decisions)
                except _Paused as exc:
                    paused.extend(exc.actions)  # let the siblings finish first

        async with anyio.create_task_group() as group:
            for child in par.steps:
                group.start_soon(branch, child)
        if paused:
            raise _Paused(paused)
        return {child.name: ctx.results[child.name] for child in par.steps}

    def _gate(
        self, gate: ApprovalGate, ctx: WorkflowContext, path: str, decisions: Mapping[str, Any]
    ) -> dict[str, Any]:
        decision = decisions.get(path)
        if decision is None:
            summary = gate.summary(ctx)
            raise _Paused([PendingAction(path, gate.name, json.dumps(dict(ctx.inputs)), summary)])
        return {"approved": decision.approved, "by": decision.reviewer, "reason": decision.reason}

    # [end:patterns]


# [start:agent-step]
def agent_task(
    name: str, agent: BaseAgent, prompt: Callable[[WorkflowContext], str], **options: Any
) -> Task:
    """A workflow step that is an agent run: the model decides *how*, the workflow *what*."""

    async def run(ctx: WorkflowContext) -> dict[str, Any]:
        result = await agent.run(
            prompt(ctx), tenant_id=ctx.tenant_id, user_id=ctx.user_id, run_id=ctx.key(name)
        )
        if result.stop not in ("answered", "output_limit"):
            raise RuntimeError(f"agent {agent.name} stopped: {result.stop}")
        return {"answer": result.answer, "tokens": result.tokens}

    return Task(name, run, **options)


# [end:agent-step]


def _check_names(step: Step, seen: set[str] | None = None) -> None:
    """Results are looked up by name, so names must be unique within a workflow."""
    seen = set() if seen is None else seen
    if step.name in seen or "/" in step.name:
        raise ValueError(f"step name {step.name!r} is repeated or contains '/'")
    seen.add(step.name)
    children: Sequence[Step] = ()
    if isinstance(step, Sequential | Parallel):
        children = step.steps
    elif isinstance(step, Conditional):
        children = list(step.branches.values())
    for child in children:
        _check_names(child, seen)
