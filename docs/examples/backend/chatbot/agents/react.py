"""The ReAct loop on native tool calling: think (a model call), act (tools), observe, repeat.

"Reasoning" is whatever the model writes or thinks before its calls; "acting" is the
calls; "observing" is their results appended to the history. The loop's own job is
to stop: at an answer, at a limit, at a loop, or at a call a person must approve.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from chatbot.agents.approval import ApprovalError, ApprovalStore, PendingAction, arguments_json
from chatbot.agents.base import (
    AgentLimits,
    AgentResult,
    AgentState,
    BaseAgent,
    StepRecord,
    StopReason,
)
from chatbot.agents.budget import TokenBudget
from chatbot.agents.executor import Decision, ToolExecutor
from chatbot.agents.tools import Tool, ToolContext, ToolRegistry, ToolResult
from chatbot.providers.base import (
    ChatMessage,
    Finish,
    FinishReason,
    LLMProvider,
    TextDelta,
    ToolCall,
    ToolSpec,
)

logger = logging.getLogger(__name__)

WRAP_UP = (
    "Tool use is over for this request. Answer now from the results above, and say "
    "plainly what you could not find or do."
)
REPEAT_NOTE = (
    "Note: you already made this exact call and got this same result. Use it, change the "
    "arguments, or answer.\n\n"
)


def estimate_tokens(messages: Sequence[ChatMessage], system: str, tools: Sequence[ToolSpec]) -> int:
    """Four characters a token plus framing: only a pre-flight guard, never for billing."""
    chars = len(system) + sum(len(m.content) + 16 for m in messages)
    chars += sum(len(json.dumps(c.arguments)) for m in messages for c in m.tool_calls)
    chars += sum(len(t.description) + len(json.dumps(t.parameters)) for t in tools)
    return chars // 4 + 1


Verdict = Literal["ok", "repeat", "loop"]


# [start:loops]
def fingerprint(call: ToolCall) -> str:
    """Same tool, same arguments (key order ignored): the same fingerprint."""
    canonical = json.dumps([call.name, call.arguments], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class LoopDetector:
    """Flags a step that repeats an earlier one, and stops repeats and short cycles.

    A step's signature is the set of its calls. The first repeat is answered with a
    nudge (the model often needed to see its result again); ``max_repeats`` repeats,
    or a cycle such as search A, search B, search A, search B, end the run.
    """

    def __init__(self, max_repeats: int) -> None:
        self.max_repeats = max_repeats

    def check(
        self, history: list[str], calls: Sequence[ToolCall]
    ) -> Literal["ok", "repeat", "loop"]:
        step = "|".join(sorted(fingerprint(call) for call in calls))
        seen = history.count(step)
        history.append(step)
        if seen >= self.max_repeats or _cycles(history):
            return "loop"
        return "repeat" if seen else "ok"


def _cycles(history: list[str]) -> bool:
    for period in (2, 3):
        recent, before = history[-period:], history[-2 * period : -period]
        if len(history) >= 2 * period and recent == before and len(set(recent)) > 1:
            return True
    return False


# [end:loops]


@dataclass(frozen=True, slots=True)
class _Turn:
    text: str
    calls: list[ToolCall]
    finish: FinishReason | Literal["malformed"]
    tokens: int


# [start:agent]
class ReActAgent(BaseAgent):
    """A model, a system prompt, a set of tools, and the limits of one run."""

    def __init__(
        self,
        name: str,
        provider: LLMProvider,
        *,
        instructions: str,
        tools: Sequence[Tool[Any]] = (),
        description: str = "",
        limits: AgentLimits | None = None,
        store: ApprovalStore | None = None,
        count_tokens: Callable[
            [Sequence[ChatMessage], str, Sequence[ToolSpec]], int
        ] = estimate_tokens,
        on_step: Callable[[StepRecord], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self.description = description
        self.provider = provider
        self.instructions = instructions
        self.limits = limits or AgentLimits()
        self.executor = ToolExecutor(
            ToolRegistry.of(tools), max_concurrency=self.limits.max_parallel_calls
        )
        if store is None and any(t.requires_approval for t in tools):
            msg = f"agent {name!r} has tools that need approval but no ApprovalStore"
            raise ValueError(msg)
        self.store = store
        self.count_tokens = count_tokens
        self.on_step = on_step  # e.g. an SSE "step" event: "Searching the docs..."
        self.loops = LoopDetector(self.limits.max_repeats)

    async def run(
        self,
        task: str,
        *,
        tenant_id: str,
        user_id: str,
        history: Sequence[ChatMessage] = (),
        budget: TokenBudget | None = None,
        run_id: str | None = None,
    ) -> AgentResult:
        messages = [*history, ChatMessage("user", task)]
        state = AgentState(run_id or uuid.uuid4().hex, self.name, tenant_id, user_id, messages)
        return await self._loop(state, budget or TokenBudget(self.limits.max_tokens), {})

    async def resume(self, run_id: str, *, budget: TokenBudget | None = None) -> AgentResult:
        """Continue a paused run once every pending call has a decision."""
        if self.store is None:
            raise ApprovalError("this agent has no store to resume from")
        state, status = await self.store.load(run_id)
        if status != "awaiting_approval":
            raise ApprovalError(f"run {run_id} is {status}, not awaiting approval")
        recorded = await self.store.decisions(run_id)
        decisions = {call.id: recorded.get(approval_key(state, call)) for call in state.pending}
        if any(decision is None for decision in decisions.values()):
            return self._result(state, "awaiting_approval")  # still waiting for someone
        if not await self.store.claim(run_id):
            raise ApprovalError(f"run {run_id} was resumed by someone else")
        budget = budget or TokenBudget(self.limits.max_tokens, used=state.tokens_used)
        return await self._loop(state, budget, decisions)

    # [end:agent]

    # [start:loop]
    async def _loop(
        self, state: AgentState, budget: TokenBudget, decisions: dict[str, Decision | None]
    ) -> AgentResult:
        ctx = ToolContext(state.tenant_id, state.user_id, state.run_id, budget=budget)
        deadline = anyio.current_time() + self.limits.deadline_s
        if state.pending:  # the step that paused for approval
            await self._finish_paused_step(state, ctx, decisions)
        tools = self.executor.registry.specs()
        while True:
            if state.steps >= self.limits.max_steps:
                return await self._stop(state, "step_limit", budget, tools)
            estimate = self.count_tokens(state.messages, self.instructions, tools)
            estimate += self.limits.max_output_tokens
            if not budget.allows(estimate):
                return await self._stop(state, "token_budget", budget, tools)
            try:
                with anyio.fail_after(deadline - anyio.current_time()):
                    turn = await self._think(state, tools, budget, estimate)
            except TimeoutError:
                return await self._stop(state, "time_limit", budget, tools)
            state.steps += 1
            state.trace.append(
                StepRecord(
                    state.steps,
                    turn.text,
                    [f"{c.name}({json.dumps(c.arguments)})" for c in turn.calls],
                    0,
                    turn.tokens,
                    turn.finish,
                )
            )
            if turn.finish == "malformed":
                return await self._stop(state, "tool_errors", budget, tools)
            if not turn.calls:
                state.messages.append(ChatMessage("assistant", turn.text))
                stop: StopReason = "answered"
                if turn.finish in ("length", "content_filter"):
                    stop = "output_limit" if turn.finish == "length" else "content_filter"
                return await self._stop(state, stop, budget, tools)
            state.messages.append(ChatMessage("assistant", turn.text, tuple(turn.calls)))
            verdict = self.loops.check(state.fingerprints, turn.calls)
            if verdict == "loop":
                self._answer_unrun(state, turn.calls, "Not run: this repeats earlier calls.")
                return await self._stop(state, "loop_detected", budget, tools)
            if await self._act(state, ctx, turn.calls, repeat=verdict == "repeat"):
                return self._result(state, "awaiting_approval")
            if state.error_steps >= self.limits.max_error_steps:
                return await self._stop(state, "tool_errors", budget, tools)
            if self.on_step is not None:
                await self.on_step(state.trace[-1])
            if self.store is not None:
                await self.store.checkpoint(state, "running")

    # [end:loop]

    # [start:think]
    async def _think(
        self, state: AgentState, tools: list[ToolSpec], budget: TokenBudget, estimate: int
    ) -> _Turn:
        """One model call. A turn whose tool-call JSON does not parse is asked again."""
        spent = 0
        for attempt in range(self.limits.malformed_retries + 1):
            text: list[str] = []
            calls: list[ToolCall] = []
            finish: Finish | None = None
            events = self.provider.stream(
                state.messages,
                system=self.instructions,
                tools=tools,
                max_output_tokens=self.limits.max_output_tokens,
            )
            try:
                async with aclosing(events):
                    async for event in events:
                        if isinstance(event, TextDelta):
                            text.append(event.text)
                        elif isinstance(event, ToolCall):
                            calls.append(event)
                        else:
                            finish = event
            except json.JSONDecodeError:
                # An adapter could not parse the arguments: a self-hosted model without
                # constrained decoding, or output cut off mid-call. Nothing of the turn
                # is usable, and it has no call id to answer with an error.
                logger.warning("malformed tool call", extra={"attempt": attempt})
                spent += budget.charge(None, estimate=estimate)
                continue
            usage = finish.usage if finish else None
            spent += budget.charge(usage, estimate=estimate)
            state.tokens_used += spent
            reason: FinishReason = finish.reason if finish else "stop"
            return _Turn("".join(text), calls, reason, spent)
        state.tokens_used += spent
        return _Turn("", [], "malformed", spent)

    # [end:think]

    # [start:act]
    async def _act(
        self,
        state: AgentState,
        ctx: ToolContext,
        calls: list[ToolCall],
        *,
        repeat: bool,
    ) -> bool:
        """Run the step's calls; return True if some wait for approval (run paused)."""
        outcomes = await self.executor.execute(calls, ctx)
        pending = [o.call for o in outcomes if o.pending and isinstance(o.call, ToolCall)]
        errors = sum(1 for o in outcomes if o.result is not None and o.result.is_error)
        state.trace[-1] = _with_errors(state.trace[-1], errors)
        state.error_steps = state.error_steps + 1 if errors == len(calls) else 0
        if pending:
            state.pending = pending
            state.partial = {o.call.id: o.result for o in outcomes if o.result is not None}
            await self._pause(state)
            return True
        for outcome in outcomes:
            assert outcome.result is not None
            self._answer(state, outcome.call.id, outcome.result, repeat=repeat)
        return False

    async def _pause(self, state: AgentState) -> None:
        assert self.store is not None  # checked in __init__
        actions = []
        for call in state.pending:
            tool = self.executor.registry.get(call.name)
            assert tool is not None
            summary = tool.summary(tool.validate(call.arguments))
            arguments = arguments_json(call.arguments)
            actions.append(PendingAction(approval_key(state, call), call.name, arguments, summary))
        await self.store.pause(state, actions)

    async def _finish_paused_step(
        self, state: AgentState, ctx: ToolContext, decisions: dict[str, Decision | None]
    ) -> None:
        """Run (or refuse) the approved calls, then answer every call in call order."""
        results = dict(state.partial)
        for call in state.pending:
            result = await self.executor.handle(call, ctx, decisions.get(call.id))
            results[call.id] = result or ToolResult("Not run: no decision.", is_error=True)
        calls = state.messages[-1].tool_calls
        for call in calls:
            self._answer(state, call.id, results[call.id], repeat=False)
        state.pending, state.partial = [], {}

    # [end:act]

    # [start:stop]
    async def _stop(
        self, state: AgentState, stop: StopReason, budget: TokenBudget, tools: list[ToolSpec]
    ) -> AgentResult:
        """End the run; after a step or loop limit, ask once for an answer without tools."""
        if stop in ("step_limit", "loop_detected") and budget.allows(
            self.count_tokens(state.messages, self.instructions, tools)
            + self.limits.max_output_tokens
        ):
            note = ChatMessage("user", WRAP_UP)
            wrap = await self._think_once([*state.messages, note], tools, budget, state)
            if wrap:
                state.messages.append(ChatMessage("assistant", wrap))
        if self.store is not None:
            await self.store.checkpoint(state, "finished")
        return self._result(state, stop)

    async def _think_once(
        self,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        budget: TokenBudget,
        state: AgentState,
    ) -> str:
        """Text of one extra call; any tool calls in it are ignored, never run."""
        text: list[str] = []
        usage = None
        events = self.provider.stream(
            messages,
            system=self.instructions,
            tools=tools,  # Anthropic rejects tool_use blocks in a request without tools
            max_output_tokens=self.limits.max_output_tokens,
        )
        async with aclosing(events):
            async for event in events:
                if isinstance(event, TextDelta):
                    text.append(event.text)
                elif isinstance(event, Finish):
                    usage = event.usage
        estimate = self.limits.max_output_tokens
        state.tokens_used += budget.charge(usage, estimate=estimate)
        return "".join(text)

    def _result(self, state: AgentState, stop: StopReason) -> AgentResult:
        answer = next(
            (m.content for m in reversed(state.messages) if m.role == "assistant" and m.content),
            "",
        )
        return AgentResult(
            state.run_id,
            answer,
            stop,
            state.steps,
            state.tokens_used,
            list(state.trace),
            list(state.pending),
            list(state.messages),
        )

    # [end:stop]

    def _answer(self, state: AgentState, call_id: str, result: ToolResult, *, repeat: bool) -> None:
        content = REPEAT_NOTE + result.content if repeat else result.content
        state.messages.append(ChatMessage.tool_result(call_id, content, is_error=result.is_error))

    def _answer_unrun(self, state: AgentState, calls: list[ToolCall], why: str) -> None:
        """Every call gets a result, even one we refuse: a dangling call is a 400 later."""
        for call in calls:
            state.messages.append(ChatMessage.tool_result(call.id, why, is_error=True))


def approval_key(state: AgentState, call: ToolCall) -> str:
    """Step number and call id: vendors' call ids are unique per response, not per run."""
    return f"{state.steps}-{call.id}"


def _with_errors(record: StepRecord, errors: int) -> StepRecord:
    return StepRecord(record.step, record.text, record.calls, errors, record.tokens, record.finish)
