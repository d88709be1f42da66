"""OpenAI through the Responses API, streamed."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence

import openai
from openai import AsyncOpenAI, omit
from openai.types.responses import FunctionToolParam, ResponseInputParam, ResponseUsage

from chatbot.providers.base import (
    ChatMessage,
    Finish,
    FinishReason,
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
)


# [start:stream]
class OpenAIProvider(LLMProvider):
    """Streams ``client.responses.create(stream=True)`` as normalised events."""

    name = "openai"

    def __init__(self, client: AsyncOpenAI, *, model: str) -> None:
        self._client = client
        self._model = model

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
    ) -> AsyncGenerator[StreamEvent]:
        history: ResponseInputParam = [{"role": m.role, "content": m.content} for m in messages]
        called_tool = False
        try:
            events = await self._client.responses.create(
                model=self._model,
                instructions=system,
                input=history,
                tools=[_function_tool(t) for t in tools] or omit,
                max_output_tokens=max_output_tokens,
                store=False,  # we keep the history ourselves
                stream=True,
            )
            async with events:  # closing it closes the HTTP response: generation stops
                async for event in events:
                    if event.type == "response.output_text.delta":
                        yield TextDelta(event.delta)
                    elif event.type == "response.output_item.done" and (
                        event.item.type == "function_call"
                    ):
                        called_tool = True
                        yield ToolCall(
                            event.item.call_id, event.item.name, json.loads(event.item.arguments)
                        )
                    elif event.type in ("response.completed", "response.incomplete"):
                        details = event.response.incomplete_details
                        reason = _finish_reason(details.reason if details else None, called_tool)
                        yield Finish(reason, _usage(event.response.usage))
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


def _function_tool(tool: ToolSpec) -> FunctionToolParam:
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "strict": True,
    }


def _finish_reason(incomplete: str | None, called_tool: bool) -> FinishReason:
    if incomplete == "max_output_tokens":
        return "length"
    if incomplete == "content_filter":
        return "content_filter"
    return "tool_calls" if called_tool else "stop"


def _usage(usage: ResponseUsage | None) -> Usage | None:
    if usage is None:
        return None
    cached = usage.input_tokens_details.cached_tokens if usage.input_tokens_details else 0
    return Usage(usage.input_tokens, usage.output_tokens, cached)


# [start:errors]
def translate_error(exc: openai.APIError, provider: str) -> ProviderError:
    """Map the SDK's exceptions (raised after its own retries) onto ours."""
    if not isinstance(exc, openai.APIStatusError):  # connection errors and timeouts
        return ProviderUnavailable(exc.message, provider=provider)
    status = exc.status_code
    if status == 429:
        return ProviderRateLimited(exc.message, provider=provider, status_code=status)
    if status >= 500 or status in (408, 409):
        return ProviderUnavailable(exc.message, provider=provider, status_code=status)
    return ProviderRejected(exc.message, provider=provider, status_code=status)


# [end:errors]
