"""Multi-agent coordination: a supervisor whose tools are other agents.

Each specialist has its own instructions, tools and (usually cheaper) model; it sees
only the task the supervisor writes for it, never the conversation, and answers with
text. The supervisor decides whom to ask, may ask several at once, and writes the
final answer. One token budget covers the whole tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from chatbot.agents.approval import ApprovalStore
from chatbot.agents.base import AgentLimits, BaseAgent
from chatbot.agents.react import ReActAgent
from chatbot.agents.tools import Tool, ToolContext, ToolError
from chatbot.providers.base import LLMProvider, ToolSpec

MAX_DEPTH = 2  # supervisor -> specialist -> (one more level at most)


class Delegate(BaseModel):
    """Give a specialist one self-contained task and get its answer back."""

    task: str = Field(
        description="Everything the specialist needs: it cannot see this conversation"
    )


# [start:agent-tool]
class AgentTool(Tool[Delegate]):
    """Exposes an agent as a tool called ``ask_<name>``."""

    Args = Delegate
    timeout_s = 90.0  # a specialist's whole run, several model calls
    max_output_chars = 4_000  # its answer, not its transcript

    def __init__(self, agent: BaseAgent) -> None:
        self.agent = agent
        self.name = f"ask_{agent.name}"

    def spec(self) -> ToolSpec:
        base = super().spec()
        return ToolSpec(self.name, f"{self.agent.description} {base.description}", base.parameters)

    async def run(self, args: Delegate, ctx: ToolContext) -> str:
        if ctx.run_id.count(".") >= MAX_DEPTH:
            raise ToolError("Delegation is too deep; answer with what you have.")
        result = await self.agent.run(
            args.task,
            tenant_id=ctx.tenant_id,
            user_id=ctx.user_id,
            budget=ctx.budget,  # the parent's budget: children spend from the same pool
            run_id=f"{ctx.run_id}.{ctx.call_id}",  # traceable: parent run, then call
        )
        if result.stop == "answered":
            return result.answer
        if result.stop == "token_budget":
            raise ToolError("The shared token budget is spent; answer with what you have.")
        note = f"[{self.agent.name} stopped early: {result.stop}]"
        return f"{result.answer}\n{note}" if result.answer else note


# [end:agent-tool]


# [start:coordinator]
class Coordinator(ReActAgent):
    """A ReAct agent whose tools are its specialists (the supervisor pattern)."""

    def __init__(
        self,
        name: str,
        provider: LLMProvider,
        *,
        specialists: Sequence[BaseAgent],
        instructions: str,
        limits: AgentLimits | None = None,
        store: ApprovalStore | None = None,
        extra_tools: Sequence[Tool[Any]] = (),
    ) -> None:
        for agent in specialists:
            if isinstance(agent, ReActAgent) and any(
                tool.requires_approval for tool in agent.executor.registry
            ):
                # A pause three levels down cannot be resumed from here: keep approvals
                # at the top, where the run is persisted and the user is talking.
                msg = f"specialist {agent.name!r} has tools that need approval"
                raise ValueError(msg)
        roster = "\n".join(f"- ask_{a.name}: {a.description}" for a in specialists)
        super().__init__(
            name,
            provider,
            instructions=f"{instructions}\n\nSpecialists you can ask:\n{roster}",
            tools=[*(AgentTool(a) for a in specialists), *extra_tools],
            limits=limits,
            store=store,
        )


# [end:coordinator]
