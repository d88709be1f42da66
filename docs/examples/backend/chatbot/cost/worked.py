"""Chapter 11's worked numbers from ``config/llm.toml``: ``python -m chatbot.cost.worked``.

Every figure the chapter quotes comes from here, with the catalog's ``price_date``; a
test recomputes them and checks the chapter still quotes the same values, so a price
change in the catalog cannot leave the prose behind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from chatbot.cost.hybrid import GpuReplica, MonthPlan, break_even_turns, plan_month
from chatbot.cost.roi import RoiInputs, RoiResult, roi
from chatbot.llm.catalog import LLMConfig, load_config
from chatbot.llm.costs import usage_cost
from chatbot.providers.base import Usage

CATALOG = Path(__file__).resolve().parents[2] / "config" / "llm.toml"

# [start:workload]
# The reference workload: an enterprise support assistant.
TURN = Usage(input_tokens=2_500, output_tokens=300)  # system prompt, history, RAG, question
CACHED_PREFIX = 2_000  # system prompt + earlier turns, identical to the previous request
TIER_MIX = {
    "gpt-small": Decimal("0.45"),
    "claude-haiku": Decimal("0.40"),
    "claude-sonnet": Decimal("0.15"),
}
TURNS_PER_DAY = 400_000  # ~12 M a month: 100 K daily users, 4 turns each
# Share of a day's turns in each hour (UTC, one region's business day): sums to 1.
HOURLY_SHARE = (
    [0.005] * 6  # 00-06
    + [0.02, 0.04, 0.08, 0.09, 0.095, 0.085, 0.07, 0.085, 0.09, 0.08, 0.07, 0.05]  # 06-18
    + [0.035, 0.025, 0.02, 0.015, 0.01, 0.01]  # 18-24
)
REPLICA = GpuReplica(gpu_hour=Decimal("2.50"), gpus=4, output_tokens_per_s=3_000)
OPS_MONTHLY = Decimal(10_000)  # half an engineer's time to run GPUs and models
# [end:workload]


@dataclass(frozen=True)
class Worked:
    price_date: str
    turn_cost: dict[str, Decimal]  # the reference turn on each catalog model
    cached_turn_cost: dict[str, Decimal]  # the same turn with its prefix read from cache
    all_strongest_month: Decimal
    routed_month: Decimal
    turn_capacity: int
    replica_month: Decimal
    local_per_million_output: Decimal
    break_even: int
    plans: list[MonthPlan]
    roi: RoiResult
    small_roi: RoiResult  # the same product at a tenth of the volume


def compute(config: LLMConfig) -> Worked:
    cost = {m.key: usage_cost(TURN, m.prices) for m in config.models}
    cached = {
        m.key: usage_cost(
            Usage(TURN.input_tokens, TURN.output_tokens, cached_input_tokens=CACHED_PREFIX),
            m.prices,
        )
        for m in config.models
        if "prompt_cache" in m.capabilities
    }
    month_turns = TURNS_PER_DAY * 30
    blended = sum((share * cost[key] for key, share in TIER_MIX.items()), Decimal(0))
    hosted_turn = cost["claude-haiku"]  # the tier-2 model the local one stands in for
    capacity = REPLICA.turns_per_hour(TURN.input_tokens, TURN.output_tokens)
    hourly = [round(TURNS_PER_DAY * share) for share in HOURLY_SHARE]
    plans = [
        plan_month(
            hourly,
            replicas=n,
            replica=REPLICA,
            turn_capacity=capacity,
            hosted_turn_cost=hosted_turn,
            fixed_monthly=OPS_MONTHLY,
        )
        for n in range(5)
    ]
    return Worked(
        price_date=config.price_date.isoformat(),
        turn_cost=cost,
        cached_turn_cost=cached,
        all_strongest_month=month_turns * cost["claude-sonnet"],
        routed_month=month_turns * blended,
        turn_capacity=capacity,
        replica_month=REPLICA.monthly_cost(),
        local_per_million_output=REPLICA.cost_per_million_output(),
        break_even=break_even_turns(2 * REPLICA.monthly_cost(), hosted_turn),
        plans=plans,
        roi=roi(support_case(month_turns // 4, blended)),
        small_roi=roi(support_case(month_turns // 40, blended)),
    )


def sensitivity(config: LLMConfig) -> dict[str, tuple[int, Decimal]]:
    """The cheapest replica count and monthly total when one assumption moves."""
    hosted = usage_cost(TURN, config.model("claude-haiku").prices)
    hourly = [round(TURNS_PER_DAY * share) for share in HOURLY_SHARE]
    cases = {
        "as assumed": (REPLICA, hosted, OPS_MONTHLY),
        "half the throughput": (replace(REPLICA, output_tokens_per_s=1_500), hosted, OPS_MONTHLY),
        "hosted price halves": (REPLICA, hosted / 2, OPS_MONTHLY),
        "GPUs at $1.60 committed": (
            replace(REPLICA, gpu_hour=Decimal("1.60")),
            hosted,
            OPS_MONTHLY,
        ),
        "operations cost doubles": (REPLICA, hosted, 2 * OPS_MONTHLY),
    }
    result = {}
    for name, (replica, turn_cost, ops) in cases.items():
        capacity = replica.turns_per_hour(TURN.input_tokens, TURN.output_tokens)
        plans = [
            plan_month(
                hourly,
                replicas=n,
                replica=replica,
                turn_capacity=capacity,
                hosted_turn_cost=turn_cost,
                fixed_monthly=ops,
            )
            for n in range(6)
        ]
        best = min(plans, key=lambda plan: plan.total)
        result[name] = (best.replicas, best.total)
    return result


def support_case(conversations: int, cost_per_turn: Decimal) -> RoiInputs:
    """The ROI assumptions of chapter 11.4; only the volume differs between the cases."""
    return RoiInputs(
        conversations=conversations,
        turns_per_conversation=Decimal(4),
        cost_per_turn=cost_per_turn,
        would_contact=Decimal("0.15"),
        containment=Decimal("0.30"),
        human_cost_per_contact=Decimal("8.00"),
        platform_monthly=Decimal(25_000),
        team_monthly=Decimal(60_000),
        build_cost=Decimal(600_000),
    )


def main() -> None:
    worked = compute(load_config(CATALOG))
    print(f"prices checked {worked.price_date}")
    for key, value in worked.turn_cost.items():
        cached = worked.cached_turn_cost.get(key)
        print(f"  {key:14} ${value:.5f} a turn" + (f", ${cached:.5f} cached" if cached else ""))
    print(f"all on the strongest model: ${worked.all_strongest_month:,.0f} a month")
    print(f"routed by complexity:       ${worked.routed_month:,.0f} a month")
    print(f"replica: {worked.turn_capacity:,} turns/h, ${worked.replica_month:,.0f} a month")
    print(f"break-even of two replicas: {worked.break_even:,} turns a month")
    for plan in worked.plans:
        print(
            f"  {plan.replicas} replicas: ${plan.total:,.0f} "
            f"({plan.local_share:.0%} local, ${plan.hosted_cost:,.0f} hosted)"
        )
    print(worked.roi)
    print(worked.small_roi)
    for name, (replicas, total) in sensitivity(load_config(CATALOG)).items():
        print(f"  {name}: {replicas} replicas, ${total:,.0f}")


if __name__ == "__main__":
    main()
