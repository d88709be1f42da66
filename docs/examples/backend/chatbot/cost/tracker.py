"""The cost ledger: one priced line per turn, summed any way finance asks.

Fed by ``TurnCompleted`` events (chapter 2's bus, or the Redis stream they are forwarded
to), which can arrive twice; the turn's event id makes recording idempotent. Money
stays :class:`~decimal.Decimal` until the report rounds it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from chatbot.llm.costs import CostCalculator
from chatbot.providers.base import Usage

CENT = Decimal("0.01")


# [start:ledger]
@dataclass(frozen=True, slots=True)
class CostLine:
    turn_id: str
    day: dt.date
    tenant_id: str
    user_ref: str  # pseudonym, never the user's email (chapter 10)
    feature: str  # "chat", "title", "embedding": what the tokens were spent on
    model: str
    usage: Usage
    cost: Decimal | None  # None: the catalog has no price for this model


class CostLedger:
    """In-memory here; in production the same rows go to a ``turn_costs`` table."""

    def __init__(self, calculator: CostCalculator) -> None:
        self._calculator = calculator
        self._lines: dict[str, CostLine] = {}

    def record(
        self,
        *,
        turn_id: str,
        at: dt.datetime,
        tenant_id: str,
        user_ref: str,
        model: str,
        usage: Usage,
        feature: str = "chat",
    ) -> CostLine:
        """Price and store one turn; a redelivered event returns the line already stored."""
        if (existing := self._lines.get(turn_id)) is not None:
            return existing
        cost = self._calculator.cost(model, usage)
        line = CostLine(turn_id, at.date(), tenant_id, user_ref, feature, model, usage, cost)
        self._lines[turn_id] = line
        return line

    def total(self, **match: object) -> Decimal:
        """Sum of priced lines whose fields equal ``match`` (e.g. ``tenant_id="acme"``)."""
        return sum((line.cost for line in self._select(match) if line.cost), Decimal(0))

    def by(self, field: str, **match: object) -> dict[str, Decimal]:
        """Totals grouped by one field, largest first: the shape of every cost report."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for line in self._select(match):
            if line.cost is not None:
                totals[str(getattr(line, field))] += line.cost
        return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))

    def month_to_date(self, tenant_id: str, today: dt.date) -> Decimal:
        start = today.replace(day=1)
        return sum(
            (
                line.cost
                for line in self._lines.values()
                if line.tenant_id == tenant_id and start <= line.day <= today and line.cost
            ),
            Decimal(0),
        )

    def unpriced(self) -> list[CostLine]:
        """Turns on models without a price: a gap in every report until fixed."""
        return [line for line in self._lines.values() if line.cost is None]

    def _select(self, match: dict[str, object]) -> Iterable[CostLine]:
        return (
            line
            for line in self._lines.values()
            if all(getattr(line, key) == value for key, value in match.items())
        )


def dollars(amount: Decimal) -> Decimal:
    """Round for a report, half up as invoices do; never round before summing."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# [end:ledger]
