"""Return on investment of a support chatbot: what it saves against what it costs.

The model bill is usually the smallest line. The savings come from conversations the
bot resolves that a person would otherwise have handled, so the number that moves ROI
is the containment rate, measured honestly (resolved and not re-opened within a week),
not the price per token.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


# [start:roi]
@dataclass(frozen=True, slots=True)
class RoiInputs:
    conversations: int  # a month
    turns_per_conversation: Decimal
    cost_per_turn: Decimal  # from the cost ledger or the catalog's prices
    would_contact: Decimal  # share of conversations that would otherwise reach a person
    containment: Decimal  # of those, the share the bot resolves (not re-opened in 7 days)
    human_cost_per_contact: Decimal  # fully loaded agent cost of one contact
    platform_monthly: Decimal  # infrastructure, observability, vector store
    team_monthly: Decimal  # the engineers' share who run and improve it
    build_cost: Decimal  # one-off: the first release


@dataclass(frozen=True, slots=True)
class RoiResult:
    model_cost: Decimal
    running_cost: Decimal  # model + platform + team
    savings: Decimal
    net_monthly: Decimal
    roi: Decimal  # net over running cost, a month
    payback_months: Decimal | None  # None: never pays back
    break_even_containment: Decimal  # the containment at which net is zero


def roi(inputs: RoiInputs) -> RoiResult:
    turns = inputs.conversations * inputs.turns_per_conversation
    model_cost = turns * inputs.cost_per_turn
    running = model_cost + inputs.platform_monthly + inputs.team_monthly
    per_contained = inputs.conversations * inputs.would_contact * inputs.human_cost_per_contact
    savings = per_contained * inputs.containment
    net = savings - running
    payback = inputs.build_cost / net if net > 0 else None
    return RoiResult(
        model_cost=_round(model_cost),
        running_cost=_round(running),
        savings=_round(savings),
        net_monthly=_round(net),
        roi=(net / running).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        payback_months=payback.quantize(Decimal("0.1")) if payback is not None else None,
        break_even_containment=(running / per_contained).quantize(Decimal("0.001")),
    )


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)


# [end:roi]
