"""The tool interface: a typed argument model, a timeout, a size cap, and errors the model reads.

A tool is written once as a subclass of :class:`Tool`. Its ``Args`` Pydantic model is the
single source of the JSON Schema the model sees (made strict-mode safe by
:func:`chatbot.llm.tools.tool_spec`) *and* of the validation its arguments go through,
so the schema and the check can never disagree.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from chatbot.agents.budget import TokenBudget
from chatbot.llm.tools import tool_spec
from chatbot.providers.base import ToolSpec

ArgsT = TypeVar("ArgsT", bound=BaseModel)


# [start:tool]
@dataclass(frozen=True, slots=True)
class ToolContext:
    """Who the call runs for: tools scope every read and write to this, never to arguments.

    ``idempotency_key`` is stable for one model call across retries and resumptions
    (``<run_id>:<call_id>``), so a side-effecting tool can pass it to the system it
    changes and a replayed call does not act twice.
    """

    tenant_id: str
    user_id: str
    run_id: str
    call_id: str = ""
    budget: TokenBudget | None = None  # the run's, for tools that spend tokens (delegation)

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}:{self.call_id}"


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What goes back to the model: text (JSON for structured data) and an error flag."""

    content: str
    is_error: bool = False
    truncated: bool = False


class ToolError(Exception):
    """A failure the model should read and can act on ("no order 123", "date in the past").

    The message is sent to the model verbatim, so it must say what to change, and must
    not leak internals (stack traces, SQL, hostnames).
    """


class Tool(ABC, Generic[ArgsT]):
    """Base class of every tool.

    Subclasses set ``name`` and ``Args`` and implement :meth:`run`. The class attributes
    are the operational contract the executor enforces: a timeout, an output cap, and
    whether a person must approve the call before it runs.
    """

    name: str
    Args: type[ArgsT]
    timeout_s: ClassVar[float] = 10.0
    max_output_chars: ClassVar[int] = 8_000  # about 2,000 tokens in every later request
    requires_approval: ClassVar[bool] = False  # True if any call may need a person's approval

    def spec(self) -> ToolSpec:
        """The provider-neutral definition; the ``Args`` docstring is the description.

        Pydantic also copies the docstring into the schema's top-level ``description``,
        and keeps its line indentation: both would be sent, and paid for, on every
        request that offers the tool. The description goes once, on one line.
        """
        spec = tool_spec(self.name, self.Args)
        parameters = {k: v for k, v in spec.parameters.items() if k != "description"}
        return ToolSpec(self.name, " ".join(spec.description.split()), parameters)

    def validate(self, arguments: dict[str, Any]) -> ArgsT:
        """Parse arguments into ``Args`` or raise :class:`ToolError` the model can fix.

        ``extra="forbid"`` matches the ``additionalProperties: false`` of the schema the
        model was given: a misspelt field is an error, not silently dropped.
        """
        try:
            return self.Args.model_validate(arguments, extra="forbid")
        except ValidationError as exc:
            raise ToolError(describe_validation_error(self.name, exc)) from None

    def needs_approval(self, args: ArgsT) -> bool:
        """Whether this call waits for a person; override for thresholds (amount > 50).

        A tool that overrides this must keep ``requires_approval = True``, which says
        that it *may* need approval: agents check it to demand an approval store.
        """
        return self.requires_approval

    @abstractmethod
    async def run(self, args: ArgsT, ctx: ToolContext) -> str:
        """Do the work; return text for the model or raise :class:`ToolError`."""

    def summary(self, args: ArgsT) -> str:
        """One line for a human approver; override to show what matters for the decision."""
        return f"{self.name}({args.model_dump_json()})"


# [end:tool]


# [start:validation]
def describe_validation_error(tool: str, exc: ValidationError, limit: int = 5) -> str:
    """Pydantic errors rewritten as an instruction: field, problem, what was sent.

    Models repair arguments reliably when told the field path and the constraint; a raw
    ``repr`` of the exception wastes tokens on URLs and internal type names.
    """
    problems = []
    for error in exc.errors(include_url=False)[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
        sent = json.dumps(error.get("input"), default=str)[:80]
        problems.append(f"- {where}: {error['msg']} (got {sent})")
    more = len(exc.errors()) - limit
    if more > 0:
        problems.append(f"- ...and {more} more")
    return f"Invalid arguments for {tool}:\n" + "\n".join(problems) + "\nFix them and call again."


# [end:validation]


@dataclass
class ToolRegistry:
    """The tools one agent may use, by name."""

    tools: dict[str, Tool[Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, tools: Iterable[Tool[Any]]) -> ToolRegistry:
        registry = cls()
        for tool in tools:
            if tool.name in registry.tools:
                msg = f"two tools are called {tool.name!r}"
                raise ValueError(msg)
            registry.tools[tool.name] = tool
        return registry

    def get(self, name: str) -> Tool[Any] | None:
        return self.tools.get(name)

    def specs(self) -> list[ToolSpec]:
        """Sorted by name: the tool list is part of the cached prompt prefix."""
        return [self.tools[name].spec() for name in sorted(self.tools)]

    def __iter__(self) -> Iterator[Tool[Any]]:
        return iter(self.tools.values())

    def __len__(self) -> int:
        return len(self.tools)
