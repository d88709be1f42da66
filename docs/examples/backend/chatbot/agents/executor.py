"""The call handler: every tool call the model makes ends as exactly one result.

Whatever happens (unknown tool, broken JSON, invalid arguments, a timeout, a bug in the
tool, a call waiting for a person) the model gets a ``tool`` message answering its call
id. A history with an unanswered call is rejected by both vendors with a 400, so an
exception that escapes here would end the conversation, not just the step.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from chatbot.agents.parsing import AnyCall, MalformedCall
from chatbot.agents.tools import Tool, ToolContext, ToolError, ToolRegistry, ToolResult
from chatbot.providers.base import ToolCall

logger = logging.getLogger(__name__)


# [start:outcome]
@dataclass(frozen=True, slots=True)
class Decision:
    """A person's answer to an approval request."""

    approved: bool
    reviewer: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """The result of one call, or ``pending`` when it waits for approval."""

    call: AnyCall
    result: ToolResult | None
    elapsed_ms: float = 0.0

    @property
    def pending(self) -> bool:
        return self.result is None


# [end:outcome]


# [start:executor]
class ToolExecutor:
    """Runs one step's tool calls concurrently, each under its own timeout.

    ``max_concurrency`` bounds fan-out per agent (models sometimes ask for ten searches
    at once); the results come back in the order of the calls, which is the order both
    vendors expect them in the next request.
    """

    def __init__(self, registry: ToolRegistry, *, max_concurrency: int = 4) -> None:
        self.registry = registry
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def execute(
        self,
        calls: Sequence[AnyCall],
        ctx: ToolContext,
        decisions: Mapping[str, Decision] | None = None,
    ) -> list[CallOutcome]:
        outcomes: list[CallOutcome | None] = [None] * len(calls)

        async def one(index: int, call: AnyCall) -> None:
            async with self._limiter:
                started = time.perf_counter()
                result = await self.handle(call, ctx, (decisions or {}).get(call.id))
                elapsed = (time.perf_counter() - started) * 1000
                outcomes[index] = CallOutcome(call, result, elapsed)

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(one, index, call)
        return [outcome for outcome in outcomes if outcome is not None]

    async def handle(
        self, call: AnyCall, ctx: ToolContext, decision: Decision | None = None
    ) -> ToolResult | None:
        """One call to one result; ``None`` means "needs approval, not run"."""
        if isinstance(call, MalformedCall):
            return _error(
                f"The arguments for {call.name} were unusable ({call.error}). "
                "Call it again with one JSON object that matches its schema."
            )
        tool = self.registry.get(call.name)
        if tool is None:
            names = ", ".join(sorted(self.registry.tools)) or "none"
            return _error(f"There is no tool called {call.name!r}. Available tools: {names}.")
        try:
            args = tool.validate(call.arguments)
        except ToolError as exc:
            return _error(str(exc))
        if tool.needs_approval(args):
            if decision is None:
                return None
            if not decision.approved:
                reason = f": {decision.reason}" if decision.reason else ""
                return _error(
                    f"A reviewer ({decision.reviewer}) rejected this action{reason}. "
                    "Do not try it again; tell the user it was not done."
                )
        return await self._run(tool, args, call, dataclasses.replace(ctx, call_id=call.id))

    async def _run(
        self, tool: Tool[Any], args: Any, call: ToolCall, ctx: ToolContext
    ) -> ToolResult:
        try:
            with anyio.fail_after(tool.timeout_s):
                output = await tool.run(args, ctx)
        except ToolError as exc:
            return _error(str(exc))
        except TimeoutError:
            return _error(
                f"{tool.name} did not finish within {tool.timeout_s:g} s. "
                "Try a narrower request, or answer without it."
            )
        except Exception:
            # The model gets an opaque message: a traceback can leak paths, SQL, hosts,
            # and invites the model to "debug" our code. The log has the detail.
            logger.exception("tool failed", extra={"tool": tool.name, "call_id": call.id})
            return _error(f"{tool.name} failed with an internal error (ref {call.id}).")
        return truncate(output, tool.max_output_chars)


# [end:executor]


# [start:truncate]
def truncate(output: str, limit: int) -> ToolResult:
    """Cap a tool's output; say so, so the model knows to ask for less, not that it saw all."""
    if len(output) <= limit:
        return ToolResult(output)
    dropped = len(output) - limit
    note = f"\n[truncated: {dropped} more characters; narrow the request to see them]"
    return ToolResult(output[:limit] + note, truncated=True)


# [end:truncate]


def _error(message: str) -> ToolResult:
    return ToolResult(message, is_error=True)
