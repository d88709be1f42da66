"""What every agent shares: limits, a token budget, a serialisable state, a result."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chatbot.agents.budget import TokenBudget
from chatbot.agents.tools import ToolResult
from chatbot.providers.base import ChatMessage, ToolCall

StopReason = Literal[
    "answered",  # the model replied without calling a tool
    "step_limit",  # max_steps model calls made
    "token_budget",  # the next call would exceed the run's token budget
    "loop_detected",  # the same call (or cycle of calls) again
    "tool_errors",  # every call failed, several steps in a row
    "awaiting_approval",  # paused; resume after a person decides
    "time_limit",  # wall-clock deadline for the whole run
    "content_filter",  # the model refused
    "output_limit",  # the answer hit max_output_tokens
]


# [start:limits]
@dataclass(frozen=True, slots=True)
class AgentLimits:
    """Hard limits of one run. Defaults fit an interactive chat turn.

    A lookup-and-answer turn needs two or three model calls; a run that needs more than
    eight is more often looping than working. 40,000 tokens, mostly input, is about
    USD 0.12 at USD 3 per million input tokens: the most we accept for one chat turn.
    """

    max_steps: int = 8
    max_tokens: int = 40_000  # input + output, summed over every model call of the run
    max_output_tokens: int = 1_024  # per model call
    max_repeats: int = 2  # identical calls allowed before the run is stopped
    max_error_steps: int = 3  # consecutive steps in which every call failed
    malformed_retries: int = 1  # re-asks after a turn whose tool-call JSON did not parse
    deadline_s: float = 120.0  # wall clock for the whole run, tools included
    max_parallel_calls: int = 4


# [end:limits]


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One model call and the tool calls it made: the trace an operator reads."""

    step: int
    text: str
    calls: list[str]  # "name(args)" as the model sent them
    errors: int  # how many of those calls failed
    tokens: int
    finish: str


# [start:state]
@dataclass
class AgentState:
    """Everything needed to continue a run in another process: JSON-serialisable.

    ``pending`` are calls waiting for a person; ``partial`` the results of calls of the
    same step that did not need one (they are sent together, in call order, on resume).
    """

    run_id: str
    agent: str
    tenant_id: str
    user_id: str
    messages: list[ChatMessage]
    steps: int = 0
    tokens_used: int = 0
    fingerprints: list[str] = field(default_factory=list)
    error_steps: int = 0
    pending: list[ToolCall] = field(default_factory=list)
    partial: dict[str, ToolResult] = field(default_factory=dict)
    trace: list[StepRecord] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "run_id": self.run_id,
                "agent": self.agent,
                "tenant_id": self.tenant_id,
                "user_id": self.user_id,
                "messages": [_message_to_dict(m) for m in self.messages],
                "steps": self.steps,
                "tokens_used": self.tokens_used,
                "fingerprints": self.fingerprints,
                "error_steps": self.error_steps,
                "pending": [_call_to_dict(c) for c in self.pending],
                "partial": {k: [v.content, v.is_error] for k, v in self.partial.items()},
                "trace": [_record_to_dict(r) for r in self.trace],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AgentState:
        data = json.loads(text)
        return cls(
            run_id=data["run_id"],
            agent=data["agent"],
            tenant_id=data["tenant_id"],
            user_id=data["user_id"],
            messages=[_message_from_dict(m) for m in data["messages"]],
            steps=data["steps"],
            tokens_used=data["tokens_used"],
            fingerprints=data["fingerprints"],
            error_steps=data["error_steps"],
            pending=[_call_from_dict(c) for c in data["pending"]],
            partial={k: ToolResult(v[0], v[1]) for k, v in data["partial"].items()},
            trace=[StepRecord(**r) for r in data["trace"]],
        )


# [end:state]


@dataclass(frozen=True, slots=True)
class AgentResult:
    """How a run ended. ``answer`` is the model's last text, possibly partial."""

    run_id: str
    answer: str
    stop: StopReason
    steps: int
    tokens: int
    trace: list[StepRecord]
    pending: list[ToolCall] = field(default_factory=list)
    messages: list[ChatMessage] = field(default_factory=list)  # the whole transcript

    @property
    def finished(self) -> bool:
        return self.stop != "awaiting_approval"


# [start:base]
class BaseAgent(ABC):
    """An agent: given a task, produce an answer, within limits, for one tenant and user.

    ``name`` and ``description`` are what a coordinator (and its model) sees when it
    decides whom to delegate to, so the description says what the agent is *for* and
    what it has access to, in one or two sentences.
    """

    name: str
    description: str

    @abstractmethod
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
        """Work on ``task`` (after ``history``) until an answer, a limit, or a pause."""


# [end:base]


def _record_to_dict(record: StepRecord) -> dict[str, Any]:
    return {
        "step": record.step,
        "text": record.text,
        "calls": record.calls,
        "errors": record.errors,
        "tokens": record.tokens,
        "finish": record.finish,
    }


def _call_to_dict(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _call_from_dict(data: dict[str, Any]) -> ToolCall:
    return ToolCall(data["id"], data["name"], data["arguments"])


def _message_to_dict(message: ChatMessage) -> dict[str, Any]:
    return {
        "role": message.role,
        "content": message.content,
        "tool_calls": [_call_to_dict(c) for c in message.tool_calls],
        "tool_call_id": message.tool_call_id,
        "is_error": message.is_error,
    }


def _message_from_dict(data: dict[str, Any]) -> ChatMessage:
    return ChatMessage(
        data["role"],
        data["content"],
        tuple(_call_from_dict(c) for c in data["tool_calls"]),
        data["tool_call_id"],
        data["is_error"],
    )
