"""A span and the GenAI metrics around every model call, whatever the provider.

A wrapper around :class:`~chatbot.providers.base.LLMProvider`, so the adapters stay
free of telemetry and the fallback chain's attempts each get a span of their own when
the wrapper is applied per provider. The span covers the whole stream, from the request
to the last chunk; the time to the first chunk and the gaps between chunks are recorded
as they happen.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from opentelemetry import context, trace
from opentelemetry.metrics import Histogram, Meter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from chatbot.llm.costs import CostCalculator
from chatbot.observability import semconv as gen_ai
from chatbot.observability.metrics import ChatMetrics
from chatbot.providers.base import (
    ChatMessage,
    Finish,
    JsonSchemaFormat,
    LLMProvider,
    ProviderError,
    StreamEvent,
    TextDelta,
    ToolSpec,
    Usage,
)


@dataclass(frozen=True)
class GenAIInstruments:
    """The four histograms the GenAI conventions define for a client."""

    duration: Histogram
    tokens: Histogram
    first_chunk: Histogram
    per_chunk: Histogram

    @classmethod
    def create(cls, meter: Meter) -> GenAIInstruments:
        return cls(
            duration=meter.create_histogram(
                gen_ai.CLIENT_OPERATION_DURATION,
                unit="s",
                description="GenAI operation duration.",
                explicit_bucket_boundaries_advisory=gen_ai.DURATION_BUCKETS,
            ),
            tokens=meter.create_histogram(
                gen_ai.CLIENT_TOKEN_USAGE,
                unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=gen_ai.TOKEN_BUCKETS,
            ),
            first_chunk=meter.create_histogram(
                gen_ai.CLIENT_TIME_TO_FIRST_CHUNK,
                unit="s",
                description="Time from request to the first chunk of the response stream.",
                explicit_bucket_boundaries_advisory=gen_ai.DURATION_BUCKETS,
            ),
            per_chunk=meter.create_histogram(
                gen_ai.CLIENT_TIME_PER_OUTPUT_CHUNK,
                unit="s",
                description="Time between consecutive chunks of the response stream.",
                explicit_bucket_boundaries_advisory=gen_ai.CHUNK_BUCKETS,
            ),
        )


# [start:provider]
class InstrumentedProvider(LLMProvider):
    """Adds a ``chat {model}`` client span and the GenAI metrics to a provider."""

    def __init__(
        self,
        inner: LLMProvider,
        *,
        model: str,
        tracer: Tracer,
        instruments: GenAIInstruments,
        metrics: ChatMetrics,
        costs: CostCalculator | None = None,
        capture_content: bool = False,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self._model = model
        self._tracer = tracer
        self._instruments = instruments
        self._metrics = metrics
        self._costs = costs
        self._capture_content = capture_content

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
        base = {
            gen_ai.OPERATION_NAME: "chat",
            gen_ai.PROVIDER_NAME: self.name,
            gen_ai.REQUEST_MODEL: self._model,
        }
        span = self._tracer.start_span(
            f"chat {self._model}",
            kind=SpanKind.CLIENT,
            attributes={
                **base,
                gen_ai.REQUEST_MAX_TOKENS: max_output_tokens,
                gen_ai.REQUEST_STREAM: True,
            },
        )
        # Current only while the provider runs, never across our yield: the caller's
        # own work between chunks (saving, sending) must not become a child of it.
        in_span = trace.set_span_in_context(span)
        if self._capture_content:  # opt-in only: prompts are personal data
            span.set_attribute(gen_ai.SYSTEM_INSTRUCTIONS, system)
            span.set_attribute(gen_ai.INPUT_MESSAGES, _messages_json(messages))
        started = last = time.perf_counter()
        first = True
        outcome, error_type, reply = "cancelled", "", []  # cancelled: the caller stopped
        inner = self.inner.stream(
            messages,
            system=system,
            tools=tools,
            max_output_tokens=max_output_tokens,
            response_format=response_format,
            user_ref=user_ref,
        )
        try:
            async with aclosing(inner):
                while True:
                    token = context.attach(in_span)
                    try:
                        event = await anext(inner)
                    except StopAsyncIteration:
                        break
                    finally:
                        context.detach(token)
                    now = time.perf_counter()
                    if isinstance(event, TextDelta):
                        reply.append(event.text)
                        self._chunk(span, base, now - started if first else None, now - last)
                        first, last = False, now
                    elif isinstance(event, Finish):
                        outcome = event.reason
                        self._finish(span, base, event)
                    yield event
        except ProviderError as exc:
            outcome, error_type = "error", exc.code
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, exc.code))
            span.set_attribute(gen_ai.ERROR_TYPE, exc.code)
            raise
        finally:
            elapsed = time.perf_counter() - started
            attrs = {**base, gen_ai.ERROR_TYPE: error_type} if error_type else base
            self._instruments.duration.record(elapsed, attrs)
            self._metrics.turn_duration.labels(self.name, self._model).observe(elapsed)
            self._metrics.turns.labels(self.name, self._model, outcome).inc()
            if self._capture_content:
                span.set_attribute(gen_ai.OUTPUT_MESSAGES, _reply_json("".join(reply)))
            span.end()

    def _chunk(self, span: Span, base: dict[str, str], first: float | None, gap: float) -> None:
        if first is not None:
            span.set_attribute(gen_ai.RESPONSE_TIME_TO_FIRST_CHUNK, first)
            self._instruments.first_chunk.record(first, base)
        else:
            self._instruments.per_chunk.record(gap, base)
            self._metrics.inter_token.labels(self.name, self._model).observe(gap)

    def _finish(self, span: Span, base: dict[str, str], finish: Finish) -> None:
        span.set_attribute(gen_ai.RESPONSE_FINISH_REASONS, [finish.reason])
        span.set_attribute(gen_ai.RESPONSE_MODEL, finish.model or self._model)
        usage = finish.usage
        if usage is None:  # a stream without usage: metering has a gap (chapter 5)
            return
        span.set_attributes(usage_attributes(usage))
        for token_type, count in (("input", usage.input_tokens), ("output", usage.output_tokens)):
            self._instruments.tokens.record(count, {**base, gen_ai.TOKEN_TYPE: token_type})
        tokens = self._metrics.tokens
        uncached = usage.input_tokens - usage.cached_input_tokens
        tokens.labels(self.name, self._model, "input").inc(uncached)
        tokens.labels(self.name, self._model, "cached_input").inc(usage.cached_input_tokens)
        tokens.labels(self.name, self._model, "output").inc(usage.output_tokens)
        if self._costs is not None:
            cost = self._costs.cost(finish.model or self._model, usage)
            self._metrics.record_cost(self.name, self._model, cost)

    async def aclose(self) -> None:
        await self.inner.aclose()


# [end:provider]


def usage_attributes(usage: Usage) -> dict[str, int]:
    return {
        gen_ai.USAGE_INPUT_TOKENS: usage.input_tokens,
        gen_ai.USAGE_OUTPUT_TOKENS: usage.output_tokens,
        gen_ai.USAGE_CACHE_READ_INPUT_TOKENS: usage.cached_input_tokens,
        gen_ai.USAGE_CACHE_CREATION_INPUT_TOKENS: usage.cache_write_input_tokens,
        gen_ai.USAGE_REASONING_OUTPUT_TOKENS: usage.reasoning_tokens,
    }


def _messages_json(messages: Sequence[ChatMessage]) -> str:
    parts = [{"role": m.role, "parts": [{"type": "text", "content": m.content}]} for m in messages]
    return json.dumps(parts)


def _reply_json(text: str) -> str:
    return json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": text}]}])
