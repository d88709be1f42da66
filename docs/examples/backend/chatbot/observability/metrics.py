"""The chatbot's own Prometheus metrics: what the SLOs and the cost dashboard read.

Scraped straight from each pod, so the paging path has no collector in it. Labels are
bounded on purpose: model and provider (a handful each), finish reason (four), never a
tenant, user or conversation id; those belong in traces and in the cost ledger, where a
million distinct values cost nothing.
"""

from __future__ import annotations

import os
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Histogram, make_asgi_app
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp

# [start:metrics]
# Time to first token as the user feels it: from request accepted to first token sent.
# Dense below 3 s, where the SLO threshold sits; total turn time needs wider buckets.
TTFT_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 20.0)
GAP_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)
TURN_BUCKETS = (0.5, 1, 2, 4, 8, 15, 30, 60, 120)


class ChatMetrics:
    """Created once per process with the registry ``/metrics`` serves."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("provider", "model")
        self.ttft = Histogram(
            "chatbot_time_to_first_token_seconds",
            "Request accepted to first token event sent, per turn.",
            ("model",),
            buckets=TTFT_BUCKETS,
            registry=registry,
        )
        self.inter_token = Histogram(
            "chatbot_inter_token_seconds",
            "Gap between consecutive streamed chunks from the model.",
            labels,
            buckets=GAP_BUCKETS,
            registry=registry,
        )
        self.turn_duration = Histogram(
            "chatbot_model_stream_seconds",
            "Model call from request to last chunk.",
            labels,
            buckets=TURN_BUCKETS,
            registry=registry,
        )
        self.tokens = Counter(
            "chatbot_tokens",  # exposed as chatbot_tokens_total
            "Tokens billed, by direction (input, output, cached_input).",
            (*labels, "direction"),
            registry=registry,
        )
        self.cost = Counter(
            "chatbot_llm_cost_usd",
            "Model spend in USD at catalog prices.",
            labels,
            registry=registry,
        )
        self.turns = Counter(
            "chatbot_turns",
            "Finished model calls by finish reason; error when the provider failed.",
            (*labels, "finish_reason"),
            registry=registry,
        )
        self.unpriced = Counter(
            "chatbot_unpriced_turns",
            "Turns on a model the catalog has no price for: a gap in cost reports.",
            ("model",),
            registry=registry,
        )

    def record_cost(self, provider: str, model: str, cost: Decimal | None) -> None:
        if cost is None:
            self.unpriced.labels(model).inc()
        else:
            self.cost.labels(provider, model).inc(float(cost))


# [end:metrics]


# [start:scrape]
def metrics_app(registry: CollectorRegistry) -> ASGIApp:
    """The ``/metrics`` endpoint, multiprocess-aware.

    One uvicorn worker per pod (chapter 9) needs nothing special. With several workers
    the start-up script must export ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory)
    before Python starts; each scrape then merges every worker's files. Gunicorn's
    ``child_exit`` hook must call ``multiprocess.mark_process_dead(worker.pid)``.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry(support_collectors_without_names=True)
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return make_asgi_app(merged)
    return make_asgi_app(registry)


# [end:scrape]
