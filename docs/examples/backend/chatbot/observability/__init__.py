"""Chapter 12: traces, metrics and logs with OpenTelemetry, Prometheus metrics for the
SLOs, and cost attribution with anomaly detection. Off unless
``CHATBOT_TELEMETRY__ENABLED=true``; needs the ``observability`` extra."""
