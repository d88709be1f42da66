"""A deterministic provider: no network, no key, the same reply every time."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Sequence

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


# [start:fake]
class FakeProvider(LLMProvider):
    """Echoes the last user message word by word, pausing ``delay_s`` between words.

    If the message names one of the offered tools, it calls that tool instead, which is
    enough to exercise a tool loop without a model.
    """

    name = "fake"

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

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
        prompt = messages[-1].content if messages else ""
        input_tokens = sum(len(m.content.split()) for m in messages) + len(system.split())
        for tool in tools:
            if tool.name in prompt:
                call_id = "call_" + hashlib.sha256(prompt.encode()).hexdigest()[:12]
                yield ToolCall(id=call_id, name=tool.name, arguments={})
                yield Finish("tool_calls", Usage(input_tokens, 1), self.name)
                return
        words = f"Hello! You said: {prompt}".split()
        for index, word in enumerate(words[:max_output_tokens]):
            await asyncio.sleep(self.delay_s)
            yield TextDelta(word if index == 0 else " " + word)
        reason: FinishReason = "length" if len(words) > max_output_tokens else "stop"
        yield Finish(reason, Usage(input_tokens, min(len(words), max_output_tokens)), self.name)


# [end:fake]
