"""The one interface every LLM backend implements: a stream of normalised events."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


# [start:messages]
@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of the conversation history.

    An assistant turn that called tools carries them in ``tool_calls``; the result of each
    call comes back as a ``"tool"`` message naming the call in ``tool_call_id``. Adapters
    translate both into their vendor's shape (items, blocks or messages).
    """

    role: Literal["user", "assistant", "tool"]
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    is_error: bool = False

    @classmethod
    def tool_result(cls, call_id: str, content: str, *, is_error: bool = False) -> ChatMessage:
        """The output of one tool call, sent back to the model."""
        return cls("tool", content, tool_call_id=call_id, is_error=is_error)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call; ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JsonSchemaFormat:
    """Structured output: the reply must be one JSON document valid against ``schema``."""

    name: str
    schema: dict[str, Any]


# [end:messages]


# [start:events]
@dataclass(frozen=True, slots=True)
class TextDelta:
    """A chunk of the assistant's reply."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model asks us to run a tool; ``arguments`` is already parsed JSON."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens billed for the turn, with one meaning whichever provider served it.

    ``input_tokens`` counts *every* input token, including those read from or written to
    the prompt cache (OpenAI reports it that way; Anthropic reports the three separately,
    and its adapter adds them up). ``reasoning_tokens`` are part of ``output_tokens``.
    """

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    reasoning_tokens: int = 0


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(frozen=True, slots=True)
class Finish:
    """Always the last event of a successful stream."""

    reason: FinishReason
    usage: Usage | None = None
    #: The model id that was asked, for pricing; not part of equality (tests compare events).
    model: str | None = field(default=None, compare=False)


StreamEvent = TextDelta | ToolCall | Finish
# [end:events]


# [start:errors]
class ProviderError(Exception):
    """A provider call failed after the SDK's own retries gave up."""

    code = "provider_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        retry_after_s: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code
        self.retry_after_s = retry_after_s  # the server's Retry-After, when it sent one
        self.request_id = request_id  # quote it in a support ticket to the vendor


class ProviderUnavailable(ProviderError):
    """Network failure, timeout, 5xx or overload: another provider may succeed."""

    code = "provider_unavailable"
    retryable = True


class ProviderRateLimited(ProviderError):
    """HTTP 429: slow down, or send the turn elsewhere."""

    code = "provider_rate_limited"
    retryable = True


class ProviderRejected(ProviderError):
    """The request itself is wrong (4xx): retrying it anywhere fails the same way."""

    code = "provider_rejected"


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds) from an error response, if present."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) / divisor
            except ValueError:
                continue  # an HTTP date: rare from these APIs, and the SDK handles it
    return None


# [end:errors]


# [start:interface]
class LLMProvider(ABC):
    """Streams one assistant turn as :data:`StreamEvent` values.

    Implementations translate their SDK's events into these types and its exceptions
    into :class:`ProviderError`, so nothing above this layer imports a vendor SDK.
    """

    name: str

    @abstractmethod
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
        response_format: JsonSchemaFormat | None = None,
        user_ref: str | None = None,
    ) -> AsyncGenerator[StreamEvent]:
        """Yield text deltas and tool calls, then exactly one :class:`Finish`.

        With ``response_format`` the text deltas concatenate to one JSON document.
        ``user_ref`` is a stable pseudonym of the end user (never an email address): the
        vendors' abuse detection can then act on that user instead of the whole account.

        Closing the iterator early must stop generation upstream; callers use
        ``contextlib.aclosing`` so that happens as soon as the client goes away.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections; the application's lifespan calls this on shutdown."""


# [end:interface]
