"""OpenAI through the Responses API, streamed."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence

import openai
from openai import AsyncOpenAI, omit
from openai.types.responses import ResponseInputParam, ResponseTextConfigParam, ResponseUsage
from openai.types.shared import ReasoningEffort
from openai.types.shared_params import Reasoning

from chatbot.providers.base import (
    ChatMessage,
    Finish,
    FinishReason,
    JsonSchemaFormat,
    LLMProvider,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
    retry_after_seconds,
)
from chatbot.providers.tools import responses_tool


# [start:stream]
class OpenAIProvider(LLMProvider):
    """Streams ``client.responses.create(stream=True)`` as normalised events."""

    name = "openai"

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str,
        reasoning_effort: ReasoningEffort | None = None,
        prompt_cache_key: str | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._reasoning: Reasoning | None = (
            {"effort": reasoning_effort} if reasoning_effort else None
        )
        self._cache_key = prompt_cache_key

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
        called_tool = refused = False
        try:
            events = await self._client.responses.create(
                model=self._model,
                instructions=system,
                input=to_responses_input(messages),
                tools=[responses_tool(t) for t in tools] or omit,
                text=_text_format(response_format) if response_format else omit,
                reasoning=self._reasoning or omit,
                prompt_cache_key=self._cache_key or omit,  # same key, same cache shard
                safety_identifier=user_ref or omit,
                max_output_tokens=max_output_tokens,
                store=False,  # we keep the history ourselves
                stream=True,
            )
            async with events:  # closing it closes the HTTP response: generation stops
                async for event in events:
                    if event.type == "response.output_text.delta":
                        yield TextDelta(event.delta)
                    elif event.type == "response.refusal.delta":
                        refused = True
                        yield TextDelta(event.delta)
                    elif event.type == "response.output_item.done" and (
                        event.item.type == "function_call"
                    ):
                        called_tool = True
                        item = event.item
                        yield ToolCall(item.call_id, item.name, json.loads(item.arguments or "{}"))
                    elif event.type in ("response.completed", "response.incomplete"):
                        details = event.response.incomplete_details
                        reason = _finish_reason(details.reason if details else None, called_tool)
                        if refused:
                            reason = "content_filter"
                        yield Finish(reason, _usage(event.response.usage), self._model)
                    elif event.type == "response.failed":
                        error = event.response.error
                        message = error.message if error else "response failed"
                        raise ProviderUnavailable(message, provider=self.name)
                    elif event.type == "error":
                        raise ProviderUnavailable(event.message, provider=self.name)
        except openai.APIError as exc:
            raise translate_error(exc, self.name) from exc

    async def aclose(self) -> None:
        await self._client.close()


# [end:stream]


# [start:input]
def to_responses_input(messages: Sequence[ChatMessage]) -> ResponseInputParam:
    """History as Responses input items: messages, function calls and their outputs."""
    items: ResponseInputParam = []
    for message in messages:
        if message.role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id or "",
                    "output": message.content,
                }
            )
            continue
        if message.content:
            items.append({"role": message.role, "content": message.content})
        for call in message.tool_calls:  # the calls go back in, or the outputs dangle
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": json.dumps(call.arguments),
                }
            )
    return items


# [end:input]


def _text_format(response_format: JsonSchemaFormat) -> ResponseTextConfigParam:
    return {
        "format": {
            "type": "json_schema",
            "name": response_format.name,
            "schema": response_format.schema,
            "strict": True,
        }
    }


def _finish_reason(incomplete: str | None, called_tool: bool) -> FinishReason:
    if incomplete == "max_output_tokens":
        return "length"
    if incomplete == "content_filter":
        return "content_filter"
    return "tool_calls" if called_tool else "stop"


# [start:usage]
def _usage(usage: ResponseUsage | None) -> Usage | None:
    """OpenAI's ``input_tokens`` already include the cached ones."""
    if usage is None:
        return None
    details = usage.input_tokens_details
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=details.cached_tokens if details else 0,
        cache_write_input_tokens=(details.cache_write_tokens or 0) if details else 0,
        reasoning_tokens=(
            usage.output_tokens_details.reasoning_tokens if usage.output_tokens_details else 0
        ),
    )


# [end:usage]


# [start:errors]
def translate_error(exc: openai.APIError, provider: str) -> ProviderError:
    """Map the SDK's exceptions (raised after its own retries) onto ours."""
    if not isinstance(exc, openai.APIStatusError):  # connection errors and timeouts
        return ProviderUnavailable(exc.message, provider=provider)
    status = exc.status_code
    kind: type[ProviderError] = ProviderRejected  # our request is wrong: fails anywhere
    if status == 429:
        kind = ProviderRateLimited
    elif status >= 500 or status in (408, 409):
        kind = ProviderUnavailable
    return kind(
        exc.message,
        provider=provider,
        status_code=status,
        retry_after_s=retry_after_seconds(exc.response.headers),
        request_id=exc.request_id,
    )


# [end:errors]
