"""Telemetry settings, nested in the app's ``Settings`` as ``telemetry``.

Environment names are ``CHATBOT_TELEMETRY__<NAME>``. The exporters also honour the
standard ``OTEL_*`` variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_HEADERS``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


# [start:settings]
class TelemetrySettings(BaseModel):
    """Traces, metrics and logs; everything here is off by default."""

    enabled: bool = Field(default=False, description="Instrument the app: traces, metrics, logs.")
    service_name: str = Field(default="chatbot-api", description="OpenTelemetry service.name.")
    environment: str = Field(
        default="development", description="deployment.environment.name on every signal."
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP base URL of the collector; unset: OTEL_EXPORTER_OTLP_ENDPOINT "
        "or http://localhost:4318.",
    )
    sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces kept (parent-based, head sampling).",
    )
    capture_content: bool = Field(
        default=False,
        description="Record prompts and replies on spans (gen_ai.input/output.messages). "
        "Personal data: a debugging window only.",
    )
    metrics_path: str = Field(
        default="/metrics", description="Where the Prometheus scrape endpoint is served."
    )


# [end:settings]
