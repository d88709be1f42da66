"""Ollama, vLLM and other OpenAI-compatible servers, through Chat Completions.

Chat Completions rather than the Responses API: it is the endpoint every compatible
server implements, with the same streaming chunks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
from openai import AsyncOpenAI, omit
from openai.types.chat import ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat

from chatbot.providers.base import (
    ChatMessage,
    Finish,
    FinishReason,
    JsonSchemaFormat,
    LLMProvider,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from chatbot.providers.openai import translate_error
from chatbot.providers.tools import chat_completions_tool

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

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str,
        name: str,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self.name = name
        # Server-specific fields (vLLM's top_k, chat_template_kwargs...): unknown ones are
        # dropped silently by some servers, so they come from configuration, per model.
        self._extra_body = dict(extra_body or {})

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
        response_format: JsonSchemaFormat | None = None,
        user_ref: str | None = None,
    ) -> AsyncGenerator[StreamEvent]:
        # Local chat templates know "system"; OpenAI's newer "developer" role is not universal.
        history: list[ChatCompletionMessageParam] = [{"role": "system", "content": system}]
        history += to_chat_messages(messages)
        calls: dict[int, _PartialCall] = {}
        reason: FinishReason = "stop"
        usage: Usage | None = None
        try:
            chunks = await self._client.chat.completions.create(
                model=self._model,
                messages=history,
                tools=[chat_completions_tool(t) for t in tools] or omit,
                response_format=_response_format(response_format) if response_format else omit,
                max_completion_tokens=max_output_tokens,
                stream=True,
                stream_options={"include_usage": True},  # else no usage when streaming
                extra_body=self._extra_body or None,
            )
            async with chunks:
                async for chunk in chunks:
                    if chunk.usage is not None:
                        details = chunk.usage.prompt_tokens_details  # vLLM: when enabled
                        cached = (details.cached_tokens or 0) if details else 0
                        usage = Usage(
                            chunk.usage.prompt_tokens, chunk.usage.completion_tokens, cached
                        )
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
        yield Finish(reason, usage, self._model)

    async def aclose(self) -> None:
        await self._client.close()


# [end:stream]


# [start:messages]
def to_chat_messages(messages: Sequence[ChatMessage]) -> list[ChatCompletionMessageParam]:
    """History as Chat Completions messages: ``tool_calls`` on the assistant, then ``tool``."""
    result: list[ChatCompletionMessageParam] = []
    for message in messages:
        if message.role == "tool":
            result.append(
                {
                    "role": "tool",
                    "tool_call_id": message.tool_call_id or "",
                    "content": message.content,
                }
            )
        elif message.role == "user":
            result.append({"role": "user", "content": message.content})
        elif message.tool_calls:
            result.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {
                                "name": call.name,
                                "arguments": json.dumps(call.arguments),
                            },
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            result.append({"role": "assistant", "content": message.content})
    return result


# [end:messages]


def _response_format(response_format: JsonSchemaFormat) -> ResponseFormat:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": response_format.name,
            "schema": response_format.schema,
            "strict": True,
        },
    }
