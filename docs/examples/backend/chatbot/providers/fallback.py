"""Send the turn to a second provider when the first one is down."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing

from chatbot.providers.base import (
    ChatMessage,
    LLMProvider,
    ProviderError,
    StreamEvent,
    ToolSpec,
)

logger = logging.getLogger(__name__)


# [start:fallback]
class FallbackProvider(LLMProvider):
    """Tries each provider in order.

    It falls back only on a retryable error raised before the first event: once text has
    reached the user, switching models mid-sentence would be worse than failing.
    """

    name = "fallback"

    def __init__(self, *providers: LLMProvider) -> None:
        if not providers:
            msg = "FallbackProvider needs at least one provider"
            raise ValueError(msg)
        self.providers = providers

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
    ) -> AsyncGenerator[StreamEvent]:
        for index, provider in enumerate(self.providers):
            started = False
            events = provider.stream(
                messages, system=system, tools=tools, max_output_tokens=max_output_tokens
            )
            try:
                async with aclosing(events):
                    async for event in events:
                        started = True
                        yield event
                return
            except ProviderError as exc:
                last = index == len(self.providers) - 1
                if started or last or not exc.retryable:
                    raise
                logger.warning("provider %s failed (%s); falling back", provider.name, exc)

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()


# [end:fallback]
