"""Chapter 12.4: cost attribution from TurnCompleted events, budget alerts, spend anomalies."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from chatbot.architecture.events import EventBus, TurnCompleted
from chatbot.cost.tracker import CostLedger
from chatbot.cost.worked import HOURLY_SHARE
from chatbot.llm.catalog import load_config
from chatbot.llm.costs import CostCalculator
from chatbot.observability.anomaly import SpendAnomalyDetector
from chatbot.observability.attribution import BudgetAlert, CostAttribution, Owner
from conftest import BACKEND

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def turn(tenant: str, day: int, n: int, model: str = "claude-haiku-4-5") -> TurnCompleted:
    return TurnCompleted(
        event_id=f"{tenant}-{day}-{n}",
        occurred_at=dt.datetime(2026, 11, day, 10, tzinfo=dt.UTC),
        conversation_id=f"c{n}",
        tenant_id=tenant,
        model=model,
        input_tokens=2_500,
        output_tokens=300,
        time_to_first_token_ms=800,
        finish_reason="stop",
    )


async def test_turn_events_are_attributed_to_departments_and_projects() -> None:
    calculator = CostCalculator(load_config(BACKEND / "config" / "llm.toml"))
    alerts: list[BudgetAlert] = []
    attribution = CostAttribution(
        CostLedger(calculator),
        {
            "support-emea": Owner("Customer Support", "helpdesk-bot", Decimal(100)),
            "sales-na": Owner("Sales", "deal-assistant", Decimal(1000)),
        },
        notify=alerts.append,
    )
    bus = EventBus()
    bus.subscribe(TurnCompleted, attribution.on_turn)
    for n in range(300):
        await bus.publish(turn("support-emea", 2, n))  # $0.004 each: $1.20
    for n in range(100):
        await bus.publish(turn("sales-na", 2, n, model="claude-sonnet-5-5"))  # $0.012: $1.20
        await bus.publish(turn("sales-na", 2, n, model="claude-sonnet-5-5"))  # redelivered
    await bus.publish(turn("lab", 2, 1))
    assert attribution.by_owner("department") == {
        "Customer Support": Decimal("1.200"),
        "Sales": Decimal("1.200"),
        "unassigned": Decimal("0.004"),
    }
    assert attribution.by_owner("project")["helpdesk-bot"] == Decimal("1.200")
    assert alerts == []


async def test_budget_alerts_fire_once_per_level_and_forecast_early() -> None:
    calculator = CostCalculator(load_config(BACKEND / "config" / "llm.toml"))
    alerts: list[BudgetAlert] = []
    ledger = CostLedger(calculator)
    attribution = CostAttribution(
        ledger, {"acme": Owner("Support", "bot", Decimal(10))}, notify=alerts.append
    )
    # Day 5: under $2 spent (20 %), but on course for more than $11 in a 30-day month.
    for n in range(500):
        await attribution.on_turn(turn("acme", 5, n))
    assert [a.level for a in alerts] == ["forecast"]
    assert alerts[0].spent < 2 and alerts[0].forecast > 11
    for n in range(500, 1300):  # $5.20 by day 6
        await attribution.on_turn(turn("acme", 6, n))
    for n in range(1300, 2600):  # $10.40 by day 7
        await attribution.on_turn(turn("acme", 7, n))
    assert [a.level for a in alerts] == ["forecast", "50%", "80%", "100%"]
    await attribution.on_turn(turn("acme", 7, 9999))
    assert len(alerts) == 4  # each level once a month


def workday_series(days: int, seed: int = 7) -> list[float]:
    """Hourly spend in USD: the reference daily curve, weekends at 40 %, ±10 % noise."""
    rng = random.Random(seed)
    daily = 1_940.0  # the routed month of chapter 11.2, $58,215 / 30
    series = []
    for day in range(days):
        weekend = day % 7 in (5, 6)
        for share in HOURLY_SHARE:
            series.append(daily * share * (0.4 if weekend else 1.0) * rng.uniform(0.9, 1.1))
    return series


def test_a_runaway_client_at_night_is_flagged_and_normal_peaks_are_not() -> None:
    series = workday_series(21)
    detector = SpendAnomalyDetector()
    assert detector.scan(series) == []  # three weeks of ordinary traffic, Mondays included
    night = 14 * 24 + 3  # a Monday, 03:00: a script loops on the API
    series[night] += 40.0
    (anomaly,) = detector.scan(series)
    assert anomaly.hour == night and anomaly.score > 6 and anomaly.baseline < 12


def test_small_absolute_changes_and_short_history_do_not_page() -> None:
    detector = SpendAnomalyDetector()
    series = [0.5] * (24 * 8)
    series[-1] = 4.0  # eight times the baseline, but $4 an hour
    assert detector.score(series, len(series) - 1) is None
    assert detector.score([1.0] * 48 + [500.0], 48) is None  # two days: no baseline yet
