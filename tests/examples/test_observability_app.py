"""The instrumented backend: what one chat request really produces in traces, metrics, logs.

The app is the reference backend (fake provider, SQLite) with ``install_telemetry`` and
in-memory exporters; assertions are on the spans, OpenTelemetry metric points,
Prometheus samples and log records the request leaves behind. A second test runs the
production path (``CHATBOT_TELEMETRY__ENABLED``) against a fake OTLP collector and
decodes what arrives over HTTP.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from chatbot.app import create_app
from chatbot.observability import semconv as gen_ai
from chatbot.observability.settings import TelemetrySettings
from chatbot.observability.telemetry import Telemetry, configure, install_telemetry
from chatbot.providers import (
    ChatMessage,
    Finish,
    LLMProvider,
    ProviderUnavailable,
    StreamEvent,
    ToolSpec,
)
from chatbot.providers.base import JsonSchemaFormat
from chatbot.settings import Settings
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client.parser import text_string_to_metric_families
from wire import parse_sse

MODEL = "claude-haiku-4-5"  # priced in config/llm.toml, so cost is recorded


class Harness:
    def __init__(
        self,
        telemetry: Telemetry,
        spans: InMemorySpanExporter,
        reader: InMemoryMetricReader,
        logs: InMemoryLogRecordExporter,
    ) -> None:
        self.telemetry, self.spans, self.reader, self.logs = telemetry, spans, reader, logs

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def harness() -> Harness:
    spans, reader, logs = (
        InMemorySpanExporter(),
        InMemoryMetricReader(),
        InMemoryLogRecordExporter(),
    )
    telemetry = configure(
        TelemetrySettings(enabled=True, environment="test"),
        version="0.1.0",
        span_processor=SimpleSpanProcessor(spans),
        metric_reader=reader,
        log_exporter=logs,
    )
    return Harness(telemetry, spans, reader, logs)


class ServesModel(LLMProvider):
    """The fake provider, reporting the priced model id a real adapter would report."""

    name = "fake"

    def __init__(self, inner: LLMProvider) -> None:
        self.inner = inner

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
        events = self.inner.stream(messages, system=system, max_output_tokens=max_output_tokens)
        async for event in events:
            yield replace(event, model=MODEL) if isinstance(event, Finish) else event


@pytest.fixture
def instrumented(settings: Settings, harness: Harness) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"chat_model": MODEL})
    app = create_app(settings)
    install_telemetry(app, settings, harness.telemetry)
    with TestClient(app) as client:
        wrapper = app.state.provider
        wrapper.inner = ServesModel(wrapper.inner)
        yield client


def by_name(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    matches = [s for s in spans if s.name == name]
    assert len(matches) == 1, [s.name for s in spans]
    return matches[0]


def test_one_chat_turn_produces_a_server_span_with_a_genai_child(
    instrumented: TestClient, harness: Harness
) -> None:
    response = instrumented.post("/v1/chat/stream", json={"message": "hello there"})
    events, _ = parse_sse(response.text)
    assert [e.event for e in events][-1] == "done"
    spans = harness.spans.get_finished_spans()
    server = by_name(spans, "POST /v1/chat/stream")
    chat = by_name(spans, f"chat {MODEL}")
    assert server.kind == SpanKind.SERVER and chat.kind == SpanKind.CLIENT
    assert chat.context.trace_id == server.context.trace_id
    assert chat.parent is not None and chat.parent.span_id == server.context.span_id
    assert server.attributes["http.route"] == "/v1/chat/stream"
    assert server.attributes["http.response.status_code"] == 200
    attrs = chat.attributes
    assert attrs[gen_ai.OPERATION_NAME] == "chat"
    assert attrs[gen_ai.PROVIDER_NAME] == "fake"
    assert attrs[gen_ai.REQUEST_MODEL] == MODEL
    assert attrs[gen_ai.RESPONSE_FINISH_REASONS] == ("stop",)
    # FakeProvider: the system prompt's 6 words + the message's 2; "Hello! You said: hello there"
    assert attrs[gen_ai.USAGE_INPUT_TOKENS] == 8 and attrs[gen_ai.USAGE_OUTPUT_TOKENS] == 5
    assert attrs[gen_ai.RESPONSE_TIME_TO_FIRST_CHUNK] >= 0
    assert gen_ai.INPUT_MESSAGES not in attrs  # content is opt-in
    assert "gen_ai.system" not in attrs and "gen_ai.usage.prompt_tokens" not in attrs
    resource = chat.resource.attributes
    assert resource["service.name"] == "chatbot-api"
    assert resource["deployment.environment.name"] == "test"
    # The database work between chunks is not parented to the model call.
    assert all(s.parent is None or s.parent.span_id != chat.context.span_id for s in spans)


def test_the_request_records_genai_metrics_and_prometheus_samples(
    instrumented: TestClient, harness: Harness
) -> None:
    instrumented.post("/v1/chat/stream", json={"message": "one two three four"})
    tokens = {
        p.attributes[gen_ai.TOKEN_TYPE]: p.sum for p in harness.points(gen_ai.CLIENT_TOKEN_USAGE)
    }
    assert tokens == {"input": 10, "output": 7}
    (duration,) = harness.points(gen_ai.CLIENT_OPERATION_DURATION)
    assert duration.count == 1 and duration.attributes[gen_ai.PROVIDER_NAME] == "fake"
    assert list(duration.explicit_bounds) == list(gen_ai.DURATION_BUCKETS)
    (first,) = harness.points(gen_ai.CLIENT_TIME_TO_FIRST_CHUNK)
    (per_chunk,) = harness.points(gen_ai.CLIENT_TIME_PER_OUTPUT_CHUNK)
    assert first.count == 1 and per_chunk.count == 6  # 7 chunks: 6 gaps
    (server,) = harness.points("http.server.request.duration")
    assert server.attributes["http.route"] == "/v1/chat/stream"

    scrape = instrumented.get("/metrics")
    assert scrape.status_code == 200
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scrape.text)
        for s in family.samples
    }
    labels = (("model", MODEL), ("provider", "fake"))
    assert samples[("chatbot_tokens_total", (("direction", "input"), *labels))] == 10
    assert samples[("chatbot_tokens_total", (("direction", "output"), *labels))] == 7
    assert samples[("chatbot_turns_total", (("finish_reason", "stop"), *labels))] == 1
    # claude-haiku at $1 in / $5 out per million: 10 and 7 tokens.
    assert samples[("chatbot_llm_cost_usd_total", labels)] == pytest.approx(0.000045)
    assert samples[("chatbot_inter_token_seconds_count", labels)] == 6
    ttft = samples[("chatbot_time_to_first_token_seconds_count", (("model", MODEL),))]
    assert ttft == 1  # from the TurnCompleted event, after the response finished


def test_probes_and_the_scrape_itself_are_not_traced(
    instrumented: TestClient, harness: Harness
) -> None:
    assert instrumented.get("/healthz").status_code == 200
    assert instrumented.get("/metrics").status_code == 200
    assert harness.spans.get_finished_spans() == ()


def test_logs_carry_the_trace_of_the_request(instrumented: TestClient, harness: Harness) -> None:
    logger = logging.getLogger("chatbot.test")
    # Celery's embedded test worker (chapter 3's tasks suite) sets the root logger to
    # ERROR for the rest of the session; this logger's own level keeps the probe audible.
    logger.setLevel(logging.INFO)

    @instrumented.app.get("/v1/_log-probe")  # type: ignore[attr-defined]
    async def probe() -> dict[str, str]:
        logger.warning("turn budget low", extra={"tenant_id": "acme"})
        return {}

    instrumented.get("/v1/_log-probe")
    harness.telemetry.logger_provider.force_flush()
    (record,) = [
        r for r in harness.logs.get_finished_logs() if r.log_record.body == "turn budget low"
    ]
    (server,) = [s for s in harness.spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert record.log_record.trace_id == server.context.trace_id
    assert record.log_record.attributes["tenant_id"] == "acme"


class Failing(LLMProvider):
    name = "fake"

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
        raise ProviderUnavailable("upstream 503", provider="fake", status_code=503)
        yield  # pragma: no cover - makes this an async generator


def test_a_provider_failure_marks_the_span_and_the_metrics(
    instrumented: TestClient, harness: Harness
) -> None:
    instrumented.app.state.provider.inner = Failing()  # type: ignore[attr-defined]
    response = instrumented.post("/v1/chat/stream", json={"message": "hello"})
    assert parse_sse(response.text)[0][-1].event == "error"
    chat = by_name(harness.spans.get_finished_spans(), f"chat {MODEL}")
    assert chat.status.status_code == StatusCode.ERROR
    assert chat.attributes[gen_ai.ERROR_TYPE] == "provider_unavailable"
    assert [e.name for e in chat.events] == ["exception"]
    (duration,) = harness.points(gen_ai.CLIENT_OPERATION_DURATION)
    assert duration.attributes[gen_ai.ERROR_TYPE] == "provider_unavailable"
    scrape = instrumented.get("/metrics").text
    assert (
        'chatbot_turns_total{finish_reason="error",model="claude-haiku-4-5",provider="fake"} 1.0'
        in scrape
    )


def test_content_capture_is_opt_in(settings: Settings) -> None:
    spans = InMemorySpanExporter()
    telemetry = configure(
        TelemetrySettings(enabled=True, capture_content=True),
        version="0.1.0",
        span_processor=SimpleSpanProcessor(spans),
        metric_reader=InMemoryMetricReader(),
        log_exporter=InMemoryLogRecordExporter(),
    )
    app = create_app(settings)
    install_telemetry(
        app, settings.model_copy(update={"telemetry": telemetry_settings(True)}), telemetry
    )
    with TestClient(app) as client:
        client.post("/v1/chat/stream", json={"message": "my card ends 4242"})
    chat = next(s for s in spans.get_finished_spans() if s.name.startswith("chat "))
    assert "4242" in chat.attributes[gen_ai.INPUT_MESSAGES]
    assert "4242" in chat.attributes[gen_ai.OUTPUT_MESSAGES]


def telemetry_settings(capture: bool) -> TelemetrySettings:
    return TelemetrySettings(enabled=True, capture_content=capture)


class Collector(BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP protobuf posts and keeps the decoded trace requests."""

    received: ClassVar[list[ExportTraceServiceRequest]] = []
    paths: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        Collector.paths.append(self.path)
        if self.path == "/v1/traces":
            Collector.received.append(ExportTraceServiceRequest.FromString(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_the_factory_switch_exports_otlp_to_a_collector(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
            fake_token_delay_s=0,
            telemetry=TelemetrySettings(
                enabled=True, otlp_endpoint=f"http://127.0.0.1:{server.server_port}"
            ),
        )
        app = create_app(settings)
        with TestClient(app) as client:
            client.post("/v1/chat/stream", json={"message": "hello"})
            assert client.get("/metrics").status_code == 200
        app.state.telemetry.shutdown()
    finally:
        server.shutdown()
    names = {
        span.name: {a.key: a.value for a in span.attributes}
        for request in Collector.received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    }
    assert "POST /v1/chat/stream" in names
    chat = names["chat fake"]
    assert chat[gen_ai.OPERATION_NAME].string_value == "chat"
    assert chat[gen_ai.USAGE_OUTPUT_TOKENS].int_value == 4
    assert {"/v1/traces", "/v1/metrics"} <= set(Collector.paths)  # no log was written
