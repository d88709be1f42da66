"""What a turn cost, and what one will cost, from the prices in ``llm.toml``.

Money is :class:`~decimal.Decimal`: a float sum of a million sub-cent amounts drifts,
and the totals end up on invoices to tenants.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from chatbot.llm.catalog import LLMConfig, ModelProfile, Prices
from chatbot.providers.base import Usage

PER_TOKEN = Decimal(1_000_000)
STALE_AFTER = dt.timedelta(days=90)


# [start:calculator]
def usage_cost(usage: Usage, prices: Prices) -> Decimal:
    """The billed cost of one turn, USD.

    ``usage.input_tokens`` includes cached and cache-write tokens (see
    :class:`~chatbot.providers.base.Usage`); each part is billed at its own rate.
    Reasoning tokens are already inside ``output_tokens`` and billed as output.
    """
    cached = usage.cached_input_tokens
    written = usage.cache_write_input_tokens
    uncached = usage.input_tokens - cached - written
    total = (
        uncached * prices.input
        + cached * (prices.cached_input if prices.cached_input is not None else prices.input)
        + written * (prices.cache_write if prices.cache_write is not None else prices.input)
        + usage.output_tokens * prices.output
    )
    return total / PER_TOKEN


def estimate_cost(
    model: ModelProfile, input_tokens: int, max_output_tokens: int, output_ratio: float
) -> Decimal:
    """Expected cost before the call: all input uncached, output a share of the cap.

    Pessimistic on input (caching only makes it cheaper) so budgets err on the safe side.
    """
    expected_output = int(max_output_tokens * output_ratio)
    usage = Usage(input_tokens=input_tokens, output_tokens=expected_output)
    return usage_cost(usage, model.prices)


class CostCalculator:
    """Prices from configuration, with a loud warning when they are old."""

    def __init__(self, config: LLMConfig, *, today: dt.date | None = None) -> None:
        self._config = config
        self._models = {m.model: m for m in config.models}
        self.prices_age = (today or dt.date.today()) - config.price_date

    @property
    def stale(self) -> bool:
        """Vendors change prices a few times a year; 90 days unreviewed is too long."""
        return self.prices_age > STALE_AFTER

    def cost(self, model_id: str, usage: Usage) -> Decimal | None:
        """Cost of a finished turn; ``None`` for a model the catalog does not price."""
        profile = self._models.get(model_id)
        return usage_cost(usage, profile.prices) if profile else None


# [end:calculator]
