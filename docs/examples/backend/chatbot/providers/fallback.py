"""Send the turn to the next provider when one is down, behind a breaker per provider."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, aclosing, nullcontext
from typing import Any

import anyio

from chatbot.architecture.circuit import CircuitBreaker, CircuitOpen
from chatbot.providers.base import (
    ChatMessage,
    JsonSchemaFormat,
    LLMProvider,
    ProviderError,
    ProviderUnavailable,
    StreamEvent,
    ToolSpec,
)

logger = logging.getLogger(__name__)


class Breakers:
    """One :class:`CircuitBreaker` per provider name, shared by every request of a process."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._breakers: dict[str, CircuitBreaker] = {}

    def __call__(self, name: str) -> CircuitBreaker:
        if name not in self._breakers:
            self._breakers[name] = CircuitBreaker(name, **self._options)
        return self._breakers[name]


# [start:fallback]
class FallbackProvider(LLMProvider):
    """Tries each provider in order until one produces its first event.

    A provider is skipped when its breaker is open, and abandoned when it fails with a
    retryable error or sends nothing within ``first_event_timeout_s``. Once an event has
    been yielded the choice is final: text has reached the user (or a tool has been
    asked to run), and switching models mid-answer would be worse than failing.
    """

    name = "fallback"

    def __init__(
        self,
        *providers: LLMProvider,
        breakers: Breakers | None = None,
        first_event_timeout_s: float | None = None,
    ) -> None:
        if not providers:
            msg = "FallbackProvider needs at least one provider"
            raise ValueError(msg)
        self.providers = providers
        self._breakers = breakers
        self._first_event_timeout_s = first_event_timeout_s

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
        for index, provider in enumerate(self.providers):
            last = index == len(self.providers) - 1
            events = provider.stream(
                messages,
                system=system,
                tools=tools,
                max_output_tokens=max_output_tokens,
                response_format=response_format,
                user_ref=user_ref,
            )
            async with aclosing(events):  # a skipped provider's request is cancelled
                try:
                    first = await self._first_event(provider.name, events)
                except ProviderError as exc:
                    if last or not exc.retryable:
                        raise
                    logger.warning("provider %s failed (%s); falling back", provider.name, exc)
                    continue
                yield first
                async for event in events:  # committed: errors from here on propagate
                    yield event
                return

    async def _first_event(self, name: str, events: AsyncIterator[StreamEvent]) -> StreamEvent:
        """The first event, or a retryable error; the breaker sees only this part."""
        guard: AbstractAsyncContextManager[None] = nullcontext()
        if self._breakers is not None:
            guard = self._breakers(name).guard()
        try:
            async with guard:
                with anyio.fail_after(self._first_event_timeout_s):
                    return await anext(events)
        except CircuitOpen as exc:
            raise ProviderUnavailable(
                str(exc), provider=name, retry_after_s=exc.retry_after_s
            ) from exc
        except TimeoutError:
            msg = f"no first event within {self._first_event_timeout_s}s"
            raise ProviderUnavailable(msg, provider=name) from None
        except StopAsyncIteration:
            raise ProviderUnavailable("stream ended without an event", provider=name) from None

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()


# [end:fallback]
