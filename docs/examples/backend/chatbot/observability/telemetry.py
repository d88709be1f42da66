"""OpenTelemetry for the app: providers for traces, metrics and logs, and the wiring.

``install_telemetry(app, settings)`` is the one call the app factory makes (only when
``CHATBOT_TELEMETRY__ENABLED`` is true). Providers are passed explicitly rather than
read from the global API, so a test can give each app its own in-memory exporters.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client import CollectorRegistry

from chatbot.architecture.events import TurnCompleted
from chatbot.llm.catalog import load_config
from chatbot.llm.costs import CostCalculator
from chatbot.observability.genai import GenAIInstruments, InstrumentedProvider
from chatbot.observability.metrics import ChatMetrics, metrics_app
from chatbot.observability.settings import TelemetrySettings

if TYPE_CHECKING:
    from chatbot.settings import Settings

CATALOG = Path(__file__).resolve().parents[2] / "config" / "llm.toml"
SCOPE = "chatbot"


# [start:providers]
@dataclass
class Telemetry:
    """Everything instrumented code needs, created once per process."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    registry: CollectorRegistry  # the Prometheus metrics of chapter 12.2
    metrics: ChatMetrics

    def shutdown(self) -> None:
        """Flush what is buffered; the last spans of a pod are the interesting ones."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


def configure(
    config: TelemetrySettings,
    *,
    version: str,
    span_processor: SpanProcessor | None = None,
    metric_reader: MetricReader | None = None,
    log_exporter: LogRecordExporter | None = None,
) -> Telemetry:
    """Providers exporting OTLP/HTTP to the collector; tests pass in-memory ones."""
    resource = Resource.create(
        {
            "service.name": config.service_name,
            "service.version": version,
            "deployment.environment.name": config.environment,
        }
    )
    endpoint = config.otlp_endpoint.rstrip("/") if config.otlp_endpoint else None
    tracer_provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(config.sample_ratio))
    )
    tracer_provider.add_span_processor(
        span_processor
        or BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces" if endpoint else None)
        )
    )
    reader = metric_reader or PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics" if endpoint else None),
        export_interval_millis=15_000,
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(
            log_exporter or OTLPLogExporter(endpoint=f"{endpoint}/v1/logs" if endpoint else None)
        )
    )
    registry = CollectorRegistry()
    return Telemetry(
        tracer_provider, meter_provider, logger_provider, registry, ChatMetrics(registry)
    )


def make_global(telemetry: Telemetry) -> None:
    """For libraries instrumented through the global API (SQLAlchemy, Redis, HTTPX2)."""
    trace.set_tracer_provider(telemetry.tracer_provider)
    metrics.set_meter_provider(telemetry.meter_provider)
    set_logger_provider(telemetry.logger_provider)


# [end:providers]


# [start:install]
def install_telemetry(
    app: FastAPI, settings: Settings, telemetry: Telemetry | None = None
) -> Telemetry:
    """Instrument the app now, and the provider and event bus once the lifespan built them."""
    config = settings.telemetry
    # FastAPI's instrumentation still emits the old HTTP names (http.status_code,
    # http.server.duration in ms) unless told otherwise, and it reads this once per
    # process: set it before the first instrument_app. Rules and dashboards use the new.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,gen_ai_latest_experimental")
    if telemetry is None:  # production: OTLP exporters, global providers
        telemetry = configure(config, version=app.version)
        make_global(telemetry)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        excluded_urls="healthz,readyz,metrics",  # probes every few seconds are noise
    )
    app.mount(config.metrics_path, metrics_app(telemetry.registry))
    app.state.telemetry = telemetry
    costs = CostCalculator(load_config(CATALOG))
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with started(app):  # the factory's lifespan: provider, events, pools
            handler = LoggingHandler(logger_provider=telemetry.logger_provider)
            logging.getLogger("chatbot").addHandler(handler)  # with trace and span ids
            model = settings.chat_model or app.state.provider.name
            app.state.provider = InstrumentedProvider(
                app.state.provider,
                model=model,
                tracer=telemetry.tracer_provider.get_tracer(SCOPE),
                instruments=GenAIInstruments.create(telemetry.meter_provider.get_meter(SCOPE)),
                metrics=telemetry.metrics,
                costs=costs,
                capture_content=config.capture_content,
            )

            async def observe_turn(event: TurnCompleted) -> None:
                if event.time_to_first_token_ms:  # 0: the turn streamed no text
                    seconds = event.time_to_first_token_ms / 1000
                    telemetry.metrics.ttft.labels(event.model).observe(seconds)

            app.state.turns.events.subscribe(TurnCompleted, observe_turn)
            try:
                yield
            finally:
                logging.getLogger("chatbot").removeHandler(handler)
                telemetry.tracer_provider.force_flush()
                telemetry.logger_provider.force_flush()

    app.router.lifespan_context = lifespan
    return telemetry


# [end:install]
