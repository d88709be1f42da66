"""The one interface every LLM backend implements: a stream of normalised events."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any, Literal


# [start:messages]
@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of the conversation history."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call; ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


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
    """Tokens billed for the turn."""

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(frozen=True, slots=True)
class Finish:
    """Always the last event of a successful stream."""

    reason: FinishReason
    usage: Usage | None = None


StreamEvent = TextDelta | ToolCall | Finish
# [end:events]


# [start:errors]
class ProviderError(Exception):
    """A provider call failed after the SDK's own retries gave up."""

    code = "provider_error"
    retryable = False

    def __init__(self, message: str, *, provider: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code


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
    ) -> AsyncGenerator[StreamEvent]:
        """Yield text deltas and tool calls, then exactly one :class:`Finish`.

        Closing the iterator early must stop generation upstream; callers use
        ``contextlib.aclosing`` so that happens as soon as the client goes away.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections; the application's lifespan calls this on shutdown."""


# [end:interface]
