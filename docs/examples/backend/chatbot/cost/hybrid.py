"""Cloud, self-hosted or both: the monthly bill of each, hour by hour over a traffic curve.

A GPU replica costs the same whether it serves or idles; a hosted model costs per token.
So the cheapest shape is usually local replicas sized for the base load, with the peaks
sent to a hosted model: the router does that already when the local queue deepens
(chapter 5). These functions put numbers on the choice before anything is bought.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

HOURS_PER_MONTH = Decimal(730)  # 8,760 / 12


# [start:capacity]
@dataclass(frozen=True, slots=True)
class GpuReplica:
    """One model server (e.g. the vLLM Deployment of chapter 5) and what it sustains."""

    gpu_hour: Decimal  # USD per GPU-hour, on-demand or committed
    gpus: int
    output_tokens_per_s: int  # measured across the whole batch at the latency target
    utilisation: float = 0.7  # traffic is never flat; nobody runs at 100 %
    prefill_ratio: float = 0.1  # an input token costs about a tenth of an output token

    def monthly_cost(self) -> Decimal:
        return self.gpu_hour * self.gpus * HOURS_PER_MONTH

    def cost_per_million_output(self) -> Decimal:
        """The derived price in ``llm.toml``: GPU bill over tokens actually served."""
        per_hour = Decimal(self.output_tokens_per_s * 3600 * self.utilisation)
        return self.gpu_hour * self.gpus / per_hour * 1_000_000

    def turns_per_hour(self, input_tokens: int, output_tokens: int) -> int:
        """Peak turns an hour, counting prefill as output-token equivalents."""
        per_turn = output_tokens + input_tokens * self.prefill_ratio
        return int(self.output_tokens_per_s * 3600 * self.utilisation / per_turn)


# [end:capacity]


# [start:plan]
@dataclass(frozen=True, slots=True)
class MonthPlan:
    replicas: int
    local_turns: int
    hosted_turns: int
    local_cost: Decimal  # GPUs plus the fixed cost of running them
    hosted_cost: Decimal

    @property
    def total(self) -> Decimal:
        return self.local_cost + self.hosted_cost

    @property
    def local_share(self) -> float:
        return self.local_turns / max(self.local_turns + self.hosted_turns, 1)


def plan_month(
    hourly_turns: Sequence[int],
    *,
    replicas: int,
    replica: GpuReplica,
    turn_capacity: int,
    hosted_turn_cost: Decimal,
    fixed_monthly: Decimal = Decimal(0),
    days: int = 30,
) -> MonthPlan:
    """Each hour the local replicas take what they can; the overflow goes hosted.

    ``fixed_monthly`` is the cost of owning the deployment at all (on-call, upgrades,
    evaluation runs); it applies whenever ``replicas > 0``.
    """
    capacity = replicas * turn_capacity
    local = sum(min(turns, capacity) for turns in hourly_turns) * days
    hosted = sum(max(turns - capacity, 0) for turns in hourly_turns) * days
    gpus = replica.monthly_cost() * replicas
    fixed = fixed_monthly if replicas else Decimal(0)
    return MonthPlan(replicas, local, hosted, gpus + fixed, hosted * hosted_turn_cost)


def break_even_turns(monthly_fixed: Decimal, hosted_turn_cost: Decimal) -> int:
    """Monthly turns at which a fixed local bill equals paying per turn."""
    return int(monthly_fixed / hosted_turn_cost)


# [end:plan]
