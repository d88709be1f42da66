"""Chapter 11's worked numbers: recomputed from config/llm.toml and found in the chapter.

If a price in the catalog changes, this fails until the chapter quotes the new figures
(run ``python -m chatbot.cost.worked`` to see them).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from chatbot.cost.worked import CATALOG, HOURLY_SHARE, compute, sensitivity
from chatbot.llm.catalog import load_config
from conftest import REPO

CHAPTER = REPO / "docs" / "chapters" / "11-cost.md"


@pytest.fixture(scope="module")
def quoted() -> str:
    return " ".join(CHAPTER.read_text(encoding="utf-8").split())


def money(value: Decimal, places: int = 0) -> str:
    return f"${value:,.{places}f}"


def test_the_reference_day_is_a_whole_day() -> None:
    assert len(HOURLY_SHARE) == 24 and sum(HOURLY_SHARE) == pytest.approx(1.0)


def test_every_worked_figure_is_what_the_chapter_quotes(quoted: str) -> None:
    worked = compute(load_config(CATALOG))
    assert f"**{worked.price_date}**" in quoted
    figures = [money(v, 5) for v in worked.turn_cost.values()]
    figures += [
        money(v, 5)
        for v in worked.cached_turn_cost.values()
        if v != worked.turn_cost["llama-scout"]
    ]
    figures += [money(worked.all_strongest_month), money(worked.routed_month)]
    figures += [f"{worked.turn_capacity:,}", money(worked.replica_month), f"{worked.break_even:,}"]
    figures.append(money(worked.local_per_million_output, 2))
    for plan in worked.plans:
        figures += [money(plan.total), f"{plan.local_share:.0%}".replace("%", " %")]
    for result in (worked.roi, worked.small_roi):
        figures += [money(result.model_cost), money(result.running_cost), money(result.savings)]
        figures += [money(result.net_monthly), f"{result.payback_months} months"]
        figures.append(f"{result.break_even_containment * 100:.1f} %")
    for replicas, total in sensitivity(load_config(CATALOG)).values():
        figures += [f"| {replicas} | {money(total)} |"]
    missing = [figure for figure in figures if figure not in quoted]
    assert not missing, f"chapter 11 does not quote {missing}: update it from the catalog"


def test_the_shape_of_the_results() -> None:
    worked = compute(load_config(CATALOG))
    cheapest = min(worked.plans, key=lambda plan: plan.total)
    assert cheapest.replicas == 2  # the hybrid beats all-hosted and all-local
    assert worked.plans[0].local_turns == 0 and worked.plans[3].hosted_turns == 0
    assert worked.routed_month < worked.all_strongest_month * Decimal("0.45")
    assert worked.small_roi.payback_months is not None and worked.small_roi.payback_months > 24
