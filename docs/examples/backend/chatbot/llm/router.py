"""Choose the model for a turn: capable enough, cheapest, healthy, with fallbacks.

The router is a pure function of the request, the catalog and provider health, so every
decision can be logged with its reason and replayed in a test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from chatbot.llm.abtest import Assignment
from chatbot.llm.catalog import Capability, LLMConfig, ModelProfile
from chatbot.llm.costs import estimate_cost


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What the router knows about a turn before it is sent."""

    text: str  # the user's latest message, which the tier rules read
    input_tokens: int  # estimated size of the whole request
    max_output_tokens: int
    needs: frozenset[Capability] = frozenset()
    allowed_providers: frozenset[str] | None = None  # tenant contract or data residency
    max_cost: Decimal | None = None  # per-turn ceiling from the tenant's plan
    min_tier: int = 1


@dataclass(frozen=True, slots=True)
class Route:
    """The primary model first, then the fallbacks in order, and why."""

    models: tuple[ModelProfile, ...]
    tier: int
    reason: str
    estimated_cost: Decimal
    experiment: tuple[str, str] | None = field(default=None)  # (experiment, arm)


class NoRoute(Exception):
    """No configured model can serve this request; the message says which limit bit."""


# [start:router]
class ModelRouter:
    """Capability filter, then tier, then cost; health and vendor diversity order the rest."""

    def __init__(
        self, config: LLMConfig, *, is_healthy: Callable[[str], bool] = lambda _: True
    ) -> None:
        self._config = config
        self._rules = [
            (rule, re.compile(rule.pattern, re.IGNORECASE) if rule.pattern else None)
            for rule in config.routing.rules
        ]
        self._is_healthy = is_healthy

    def required_tier(self, text: str) -> int:
        """The highest tier any rule asks for; rules only ever raise it."""
        tier = self._config.routing.default_tier
        for rule, pattern in self._rules:
            long_enough = rule.min_chars is None or len(text) >= rule.min_chars
            matches = pattern is None or pattern.search(text) is not None
            if long_enough and matches:
                tier = max(tier, rule.tier)
        return tier

    def route(self, request: RouteRequest, *, assignment: Assignment | None = None) -> Route:
        tier = max(self.required_tier(request.text), request.min_tier)
        cost = {m.key: self._estimate(m, request) for m in self._config.models}
        eligible = [m for m in self._config.models if self._can_serve(m, request, cost[m.key])]
        if not eligible:
            raise NoRoute(self._why_none(request))

        def order(m: ModelProfile) -> tuple[bool, Decimal]:
            return (not self._is_healthy(m.provider), cost[m.key])

        capable = sorted((m for m in eligible if m.tier >= tier), key=order)
        weaker = sorted((m for m in eligible if m.tier < tier), key=lambda m: (-m.tier, order(m)))
        reason = f"tier {tier}: cheapest capable model"
        if not capable:  # a degraded answer beats none: say so in the log
            capable, weaker = weaker[:1], weaker[1:]
            reason = f"tier {tier} unavailable: degraded to tier {capable[0].tier}"
        primary, experiment = capable[0], None
        if assignment is not None and assignment.applies_to(tier):
            arm_model = next((m for m in eligible if m.key == assignment.model), None)
            if arm_model is not None:  # an arm that cannot serve the turn is not forced
                primary, experiment = arm_model, (assignment.experiment, assignment.arm)
                reason = f"experiment {assignment.experiment}: arm {assignment.arm}"
        rest = [m for m in capable + weaker if m is not primary]
        # Healthy first, then another vendor: an outage or a rate limit rarely spans two.
        rest.sort(key=lambda m: (not self._is_healthy(m.provider), m.provider == primary.provider))
        return Route((primary, *rest), tier, reason, cost[primary.key], experiment)

    def _estimate(self, model: ModelProfile, request: RouteRequest) -> Decimal:
        output = min(request.max_output_tokens, model.max_output_tokens)
        ratio = self._config.routing.output_estimate_ratio
        return estimate_cost(model, request.input_tokens, output, ratio)

    def _can_serve(self, model: ModelProfile, request: RouteRequest, cost: Decimal) -> bool:
        output = min(request.max_output_tokens, model.max_output_tokens)
        return (
            request.needs <= model.capabilities
            and request.input_tokens + output <= model.context_window
            and (request.allowed_providers is None or model.provider in request.allowed_providers)
            and (request.max_cost is None or cost <= request.max_cost)
        )

    def _why_none(self, request: RouteRequest) -> str:
        largest = max(m.context_window for m in self._config.models)
        if request.input_tokens >= largest:
            return f"{request.input_tokens} input tokens exceed every context window"
        return (
            f"no model offers {sorted(request.needs)} within the allowed providers, "
            f"context and budget"
        )


# [end:router]
