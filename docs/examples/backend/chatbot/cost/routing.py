"""Cost-aware routing: chapter 5's router, steered by complexity and the tenant's budget.

The :class:`~chatbot.llm.router.ModelRouter` already picks the cheapest capable, healthy
model and orders the fallbacks. This layer decides what "capable" means for the turn
(the complexity analyzer's tier, never below the plan's floor), how long the answer may
be, and how far the tier may rise given what the tenant has already spent this month.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from chatbot.cost.complexity import Complexity, ComplexityAnalyzer
from chatbot.llm.catalog import Capability, LLMConfig
from chatbot.llm.router import ModelRouter, Route, RouteRequest


class BudgetExhausted(Exception):
    """The tenant is past the refusal line; the message says what to tell the user."""


# [start:policy]
@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """What happens as a tenant's month-to-date spend approaches its budget."""

    soft_limit: float = 0.8  # from 80 % spent: no tier-3 model
    soft_cap_tier: int = 2
    hard_limit: float = 1.0  # from 100 %: cheapest tier, shorter answers
    hard_cap_tier: int = 1
    hard_output_tokens: int = 300
    refuse_at: float | None = 1.2  # past 120 %: refuse (None: never; an SLA may forbid it)


@dataclass(frozen=True, slots=True)
class TenantBudget:
    monthly_limit: Decimal  # USD
    spent: Decimal  # month to date, from the cost ledger
    max_turn_cost: Decimal | None = None  # the plan's per-turn ceiling
    min_tier: int = 1  # a premium plan's floor

    @property
    def used(self) -> float:
        return float(self.spent / self.monthly_limit) if self.monthly_limit else 1.0


@dataclass(frozen=True, slots=True)
class CostDecision:
    route: Route
    complexity: Complexity
    max_output_tokens: int
    tier_cap: int
    reason: str


# [end:policy]


# [start:router]
class CostAwareRouter:
    """Complexity sets the tier and the answer length; spend caps both."""

    def __init__(
        self,
        config: LLMConfig,
        *,
        analyzer: ComplexityAnalyzer | None = None,
        policy: BudgetPolicy | None = None,
    ) -> None:
        self._analyzer = analyzer or ComplexityAnalyzer()
        self._policy = policy or BudgetPolicy()
        self._rules = ModelRouter(config)  # for its keyword tier rules
        # One chapter-5 router per tier cap, each over the models at or below the cap.
        self._routers = {
            cap: ModelRouter(
                config.model_copy(update={"models": [m for m in config.models if m.tier <= cap]})
            )
            for cap in (1, 2, 3)
            if any(m.tier <= cap for m in config.models)
        }

    def route(
        self,
        text: str,
        *,
        input_tokens: int,
        budget: TenantBudget,
        history_turns: int = 0,
        needs: frozenset[Capability] = frozenset(),
        allowed_providers: frozenset[str] | None = None,
    ) -> CostDecision:
        policy, used = self._policy, budget.used
        if policy.refuse_at is not None and used >= policy.refuse_at:
            msg = f"monthly budget {used:.0%} used; raise the limit or wait for the next month"
            raise BudgetExhausted(msg)
        complexity = self._analyzer.analyze(text, history_turns=history_turns)
        # The analyzer, the plan's floor and chapter 5's keyword rules: the highest wins.
        tier = max(complexity.tier, budget.min_tier, self._rules.required_tier(text))
        cap, why = 3, f"complexity {complexity.score}: tier {tier}"
        if used >= policy.hard_limit:
            cap = policy.hard_cap_tier
            why = f"{used:.0%} of budget used: tier {cap} only, short answers"
        elif used >= policy.soft_limit:
            cap = policy.soft_cap_tier
            why = f"{used:.0%} of budget used: tier {tier} capped at {cap}"
        output = self._analyzer.budgets.for_tier(min(tier, cap))
        if used >= policy.hard_limit:
            output = min(output, policy.hard_output_tokens)
        request = RouteRequest(
            text=text,
            input_tokens=input_tokens,
            max_output_tokens=output,
            needs=needs,
            allowed_providers=allowed_providers,
            max_cost=budget.max_turn_cost,
            min_tier=min(tier, cap),
        )
        router = self._routers[min((c for c in self._routers if c >= cap), default=3)]
        route = router.route(request)
        return CostDecision(route, complexity, output, cap, f"{why}; {route.reason}")


# [end:router]
