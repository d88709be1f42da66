"""Anthropic through the Messages API, streamed with the SDK's helper."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Literal

import anthropic
from anthropic import AsyncAnthropic, omit
from anthropic.types import (
    ContentBlockParam,
    MessageParam,
    OutputConfigParam,
    StopReason,
)
from anthropic.types import Usage as AnthropicUsage

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
from chatbot.providers.tools import anthropic_tool

_REASONS: dict[StopReason, FinishReason] = {
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
#: Error types the API reports inside an otherwise successful (HTTP 200) stream.
_TRANSIENT_STREAM_ERRORS = {"overloaded_error", "api_error"}

CacheTTL = Literal["5m", "1h"]


# [start:stream]
class AnthropicProvider(LLMProvider):
    """Streams ``client.messages.stream(...)`` as normalised events."""

    name = "anthropic"

    def __init__(
        self, client: AsyncAnthropic, *, model: str, cache_ttl: CacheTTL | None = "5m"
    ) -> None:
        self._client = client
        self._model = model
        self._cache_ttl = cache_ttl

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
        output: OutputConfigParam | None = None
        if response_format is not None:
            output = {"format": {"type": "json_schema", "schema": response_format.schema}}
        try:
            async with self._client.messages.stream(
                model=self._model,
                max_tokens=max_output_tokens,  # required: there is no server default
                system=system,  # a top-level parameter, not a message
                messages=to_anthropic_messages(messages),
                tools=[anthropic_tool(t) for t in tools] or omit,
                output_config=output or omit,
                metadata={"user_id": user_ref} if user_ref else omit,
                # Automatic caching: the breakpoint follows the end of the conversation,
                # so each turn reads the previous turns' prefix at a tenth of the price.
                cache_control=(
                    {"type": "ephemeral", "ttl": self._cache_ttl} if self._cache_ttl else omit
                ),
            ) as stream:
                async for event in stream:
                    if event.type == "text":
                        yield TextDelta(event.text)
                    elif event.type == "content_block_stop" and (
                        event.content_block.type == "tool_use"
                    ):
                        block = event.content_block  # input already parsed from the deltas
                        yield ToolCall(block.id, block.name, dict(block.input))
                final = await stream.get_final_message()
        except anthropic.APIError as exc:
            raise translate_error(exc, self.name) from exc
        reason = _REASONS.get(final.stop_reason, "stop") if final.stop_reason else "stop"
        yield Finish(reason, _usage(final.usage), self._model)

    async def aclose(self) -> None:
        await self._client.close()


# [end:stream]


# [start:messages]
def to_anthropic_messages(messages: Sequence[ChatMessage]) -> list[MessageParam]:
    """History as Messages API turns.

    Tool calls become ``tool_use`` blocks in the assistant turn; their results become
    ``tool_result`` blocks in the *user* turn that follows. Consecutive user-side
    messages merge into one turn, results first, because the API wants every result of
    a parallel call in the single message right after the call.
    """
    turns: list[tuple[Literal["user", "assistant"], list[ContentBlockParam]]] = []
    for message in messages:
        blocks: list[ContentBlockParam] = []
        if message.role == "tool":
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id or "",
                    "content": message.content,
                    "is_error": message.is_error,
                }
            )
        elif message.content:  # an empty text block is a 400
            blocks.append({"type": "text", "text": message.content})
        for call in message.tool_calls:
            blocks.append(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            )
        role: Literal["user", "assistant"] = "assistant" if message.role == "assistant" else "user"
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    return [_turn(role, blocks) for role, blocks in turns]


def _turn(role: Literal["user", "assistant"], blocks: list[ContentBlockParam]) -> MessageParam:
    only = blocks[0] if len(blocks) == 1 else None
    content: str | list[ContentBlockParam] = blocks
    if only is not None and only["type"] == "text":
        content = only["text"]  # plain text turns stay plain strings
    if role == "user":
        return {"role": "user", "content": content}
    return {"role": "assistant", "content": content}


# [end:messages]


# [start:usage]
def _usage(usage: AnthropicUsage) -> Usage:
    """Anthropic reports uncached, cache-read and cache-write input separately: add them."""
    read = usage.cache_read_input_tokens or 0
    written = usage.cache_creation_input_tokens or 0
    details = usage.output_tokens_details
    return Usage(
        input_tokens=usage.input_tokens + read + written,
        output_tokens=usage.output_tokens,
        cached_input_tokens=read,
        cache_write_input_tokens=written,
        reasoning_tokens=details.thinking_tokens if details else 0,
    )


# [end:usage]


# [start:errors]
def translate_error(exc: anthropic.APIError, provider: str) -> ProviderError:
    """Map the SDK's exceptions (raised after its own retries) onto ours."""
    if not isinstance(exc, anthropic.APIStatusError):  # connection errors and timeouts
        return ProviderUnavailable(exc.message, provider=provider)
    status = exc.status_code
    kind: type[ProviderError] = ProviderRejected
    if status == 429:
        kind = ProviderRateLimited
    elif status >= 500 or status in (408, 409):
        kind = ProviderUnavailable  # includes 529, Anthropic's "overloaded"
    elif _stream_error_type(exc) in _TRANSIENT_STREAM_ERRORS:
        kind = ProviderUnavailable  # an SSE "error" event inside a 200 stream
    return kind(
        exc.message,
        provider=provider,
        status_code=status,
        retry_after_s=retry_after_seconds(exc.response.headers),
        request_id=exc.request_id,
    )


# [end:errors]


def _stream_error_type(exc: anthropic.APIStatusError) -> str | None:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("type"))
    return None
