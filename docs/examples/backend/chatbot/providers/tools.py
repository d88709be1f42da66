"""Each API's shape for a tool definition: the only code that knows them."""

from __future__ import annotations

from anthropic.types import ToolParam
from openai.types.chat import ChatCompletionToolParam
from openai.types.responses import FunctionToolParam

from chatbot.providers.base import ToolSpec


# [start:emitters]
def responses_tool(tool: ToolSpec) -> FunctionToolParam:
    """OpenAI Responses API: a flat object."""
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "strict": True,
    }


def chat_completions_tool(tool: ToolSpec) -> ChatCompletionToolParam:
    """Chat Completions (vLLM, Ollama): the same fields nested under ``function``.

    No ``strict``: local servers enforce schemas through their own structured-output
    backends, and some reject the flag.
    """
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def anthropic_tool(tool: ToolSpec) -> ToolParam:
    """Anthropic Messages API: the schema is called ``input_schema``."""
    return {
        "name": tool.name,
        "description": tool.description,
        "input_schema": tool.parameters,
        "strict": True,
    }


# [end:emitters]
