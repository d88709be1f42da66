"""Anthropic through the Messages API, streamed with the SDK's helper."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

import anthropic
from anthropic import AsyncAnthropic, omit
from anthropic.types import MessageParam, StopReason, ToolParam

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

_REASONS: dict[StopReason, FinishReason] = {
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
#: Error types the API reports inside an otherwise successful (HTTP 200) stream.
_TRANSIENT_STREAM_ERRORS = {"overloaded_error", "api_error"}


# [start:stream]
class AnthropicProvider(LLMProvider):
    """Streams ``client.messages.stream(...)`` as normalised events."""

    name = "anthropic"

    def __init__(self, client: AsyncAnthropic, *, model: str) -> None:
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
        history = [_message(m) for m in messages]
        try:
            async with self._client.messages.stream(
                model=self._model,
                max_tokens=max_output_tokens,
                system=system,  # a top-level parameter, not a message
                messages=history,
                tools=[_tool(t) for t in tools] or omit,
            ) as stream:
                async for event in stream:
                    if event.type == "text":
                        yield TextDelta(event.text)
                    elif event.type == "content_block_stop" and (
                        event.content_block.type == "tool_use"
                    ):
                        block = event.content_block
                        yield ToolCall(block.id, block.name, dict(block.input))
                final = await stream.get_final_message()
        except anthropic.APIError as exc:
            raise translate_error(exc, self.name) from exc
        usage = final.usage
        yield Finish(
            _REASONS.get(final.stop_reason, "stop") if final.stop_reason else "stop",
            Usage(usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens or 0),
        )

    async def aclose(self) -> None:
        await self._client.close()


# [end:stream]


def _message(message: ChatMessage) -> MessageParam:
    if message.role == "user":
        return {"role": "user", "content": message.content}
    return {"role": "assistant", "content": message.content}


def _tool(tool: ToolSpec) -> ToolParam:
    return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}


def translate_error(exc: anthropic.APIError, provider: str) -> ProviderError:
    """Map the SDK's exceptions (raised after its own retries) onto ours."""
    if not isinstance(exc, anthropic.APIStatusError):  # connection errors and timeouts
        return ProviderUnavailable(exc.message, provider=provider)
    status = exc.status_code
    if status == 429:
        return ProviderRateLimited(exc.message, provider=provider, status_code=status)
    if status >= 500 or status in (408, 409) or _stream_error_type(exc) in _TRANSIENT_STREAM_ERRORS:
        return ProviderUnavailable(exc.message, provider=provider, status_code=status)
    return ProviderRejected(exc.message, provider=provider, status_code=status)


def _stream_error_type(exc: anthropic.APIStatusError) -> str | None:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("type"))
    return None
