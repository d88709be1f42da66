"""Cost attribution: who spent what, by tenant, department, project and user.

Subscribes to ``TurnCompleted`` and prices each turn into chapter 11's cost ledger. The
event names the tenant; the directory maps a tenant to the department and project that
pay for it (a config file owned by finance, not code), and budgets raise alerts at 50,
80 and 100 % of the month, or earlier when the run rate says the month will overshoot.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from chatbot.architecture.events import TurnCompleted
from chatbot.cost.tracker import CostLedger
from chatbot.providers.base import Usage

logger = logging.getLogger(__name__)


# [start:attribution]
@dataclass(frozen=True, slots=True)
class Owner:
    department: str
    project: str
    monthly_budget: Decimal


@dataclass(frozen=True, slots=True)
class BudgetAlert:
    tenant_id: str
    level: str  # "50%", "80%", "100%" or "forecast"
    spent: Decimal
    budget: Decimal
    forecast: Decimal  # month-end spend at the current run rate


class CostAttribution:
    """Turns into ledger lines; ledger lines into totals per owner; totals into alerts."""

    LEVELS = ((Decimal("1.0"), "100%"), (Decimal("0.8"), "80%"), (Decimal("0.5"), "50%"))

    def __init__(
        self,
        ledger: CostLedger,
        directory: dict[str, Owner],
        *,
        notify: Callable[[BudgetAlert], None] = lambda alert: None,
    ) -> None:
        self._ledger = ledger
        self._directory = directory
        self._notify = notify
        self._sent: set[tuple[str, str, str]] = set()  # (tenant, month, level): alert once

    async def on_turn(self, event: TurnCompleted) -> None:
        """The event bus handler; user_ref is unknown here: the event names the tenant."""
        self._ledger.record(
            turn_id=event.event_id,
            at=event.occurred_at,
            tenant_id=event.tenant_id,
            user_ref="-",
            model=event.model,
            usage=Usage(event.input_tokens, event.output_tokens),
        )
        self.check_budget(event.tenant_id, event.occurred_at.date())

    def by_owner(self, field: str) -> dict[str, Decimal]:
        """Totals by ``"department"`` or ``"project"``; unknown tenants under "unassigned"."""
        totals: dict[str, Decimal] = {}
        for tenant, amount in self._ledger.by("tenant_id").items():
            owner = self._directory.get(tenant)
            key = getattr(owner, field) if owner else "unassigned"
            totals[key] = totals.get(key, Decimal(0)) + amount
        return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))

    def check_budget(self, tenant_id: str, today: dt.date) -> BudgetAlert | None:
        owner = self._directory.get(tenant_id)
        if owner is None or owner.monthly_budget <= 0:
            return None
        spent = self._ledger.month_to_date(tenant_id, today)
        days = _days_in_month(today)
        forecast = spent / today.day * days  # linear run rate: crude, and early enough
        level = next(
            (name for share, name in self.LEVELS if spent >= owner.monthly_budget * share), None
        )
        if level is None and today.day >= 5 and forecast > owner.monthly_budget * Decimal("1.1"):
            level = "forecast"  # on course to overshoot by 10 %: say so before it happens
        if level is None or (tenant_id, f"{today:%Y-%m}", level) in self._sent:
            return None
        self._sent.add((tenant_id, f"{today:%Y-%m}", level))
        alert = BudgetAlert(tenant_id, level, spent, owner.monthly_budget, forecast)
        logger.warning(
            "budget alert %s for %s: spent %s of %s", level, tenant_id, spent, owner.monthly_budget
        )
        self._notify(alert)
        return alert


def _days_in_month(day: dt.date) -> int:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (following - dt.timedelta(days=1)).day


# [end:attribution]
