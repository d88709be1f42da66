"""Ollama, vLLM and other OpenAI-compatible servers, through Chat Completions.

Chat Completions rather than the Responses API: it is the endpoint every compatible
server implements, with the same streaming chunks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

import openai
from openai import AsyncOpenAI, omit
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from chatbot.providers.base import (
    ChatMessage,
    Finish,
    FinishReason,
    LLMProvider,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from chatbot.providers.openai import translate_error

_REASONS: dict[str, FinishReason] = {
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}


@dataclass
class _PartialCall:
    """Tool-call fragments arrive spread over many chunks, keyed by index."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


# [start:stream]
class OpenAICompatibleProvider(LLMProvider):
    """Streams ``client.chat.completions.create(stream=True)`` from a local model server."""

    def __init__(self, client: AsyncOpenAI, *, model: str, name: str) -> None:
        self._client = client
        self._model = model
        self.name = name

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
    ) -> AsyncGenerator[StreamEvent]:
        # Local chat templates know "system"; OpenAI's newer "developer" role is not universal.
        history: list[ChatCompletionMessageParam] = [{"role": "system", "content": system}]
        history += [_message(m) for m in messages]
        calls: dict[int, _PartialCall] = {}
        reason: FinishReason = "stop"
        usage: Usage | None = None
        try:
            chunks = await self._client.chat.completions.create(
                model=self._model,
                messages=history,
                tools=[_function_tool(t) for t in tools] or omit,
                max_completion_tokens=max_output_tokens,
                stream=True,
                stream_options={"include_usage": True},
            )
            async with chunks:
                async for chunk in chunks:
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices:
                        if choice.delta.content:
                            yield TextDelta(choice.delta.content)
                        for fragment in choice.delta.tool_calls or ():
                            call = calls.setdefault(fragment.index, _PartialCall())
                            if fragment.id:
                                call.id = fragment.id
                            if fragment.function and fragment.function.name:
                                call.name = fragment.function.name
                            if fragment.function and fragment.function.arguments:
                                call.arguments.append(fragment.function.arguments)
                        if choice.finish_reason:
                            reason = _REASONS.get(choice.finish_reason, "stop")
        except openai.APIError as exc:
            raise translate_error(exc, self.name) from exc
        for call in calls.values():
            yield ToolCall(call.id, call.name, json.loads("".join(call.arguments) or "{}"))
        yield Finish(reason, usage)

    async def aclose(self) -> None:
        await self._client.close()


# [end:stream]


def _message(message: ChatMessage) -> ChatCompletionMessageParam:
    if message.role == "user":
        return {"role": "user", "content": message.content}
    return {"role": "assistant", "content": message.content}


def _function_tool(tool: ToolSpec) -> ChatCompletionToolParam:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }
