"""The model catalog: what each configured model can do and what it costs, from a file.

Routing, fallbacks, cost and experiments all read this one description, so adding a
model or changing a price is a configuration change, reviewed like one, never a code
change. The file is TOML (``config/llm.toml``): ``tomllib`` is in the standard library,
and unlike JSON it allows the comments that say where each number came from.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

Capability = Literal["tools", "json_schema", "vision", "reasoning", "prompt_cache"]
ProviderKind = Literal["openai", "anthropic", "vllm", "ollama", "fake"]


# [start:profile]
class Prices(BaseModel):
    """USD per million tokens. Cache prices default to the input price (no discount)."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None


class ModelProfile(BaseModel):
    """One deployable model: which adapter serves it and what the router may expect."""

    key: str  # our stable name; routing rules and experiments refer to this
    provider: ProviderKind
    model: str  # the vendor's id, sent on the wire
    tier: int = Field(ge=1, le=3)  # 1 fast and cheap, 2 general, 3 strongest
    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(gt=0)
    capabilities: frozenset[Capability] = frozenset()
    prices: Prices


# [end:profile]


# [start:config]
class Rule(BaseModel):
    """Raise the required tier when a message matches; the highest matching tier wins."""

    tier: int = Field(ge=1, le=3)
    pattern: str | None = None  # a regular expression, case-insensitive
    min_chars: int | None = None


class Routing(BaseModel):
    default_tier: int = Field(ge=1, le=3)
    rules: list[Rule] = []
    output_estimate_ratio: float = 0.5  # expected output as a share of max_output_tokens


class Arm(BaseModel):
    name: str
    model: str  # a catalog key
    weight: int = Field(gt=0)


class Experiment(BaseModel):
    name: str
    salt: str  # change it to re-randomise; keep it to keep assignments
    unit: Literal["user", "conversation", "tenant"] = "user"
    traffic_percent: float = Field(gt=0, le=100)
    tenants: frozenset[str] | None = None  # only these tenants take part
    tier: int | None = Field(default=None, ge=1, le=3)  # only turns routed to this tier
    arms: list[Arm] = Field(min_length=2)


class LLMConfig(BaseModel):
    """The whole ``llm.toml``: price date, models, routing rules, experiments."""

    price_date: dt.date  # when the prices below were last checked against the vendors
    currency: Literal["USD"] = "USD"
    models: list[ModelProfile]
    routing: Routing
    experiments: list[Experiment] = []

    @model_validator(mode="after")
    def _references_resolve(self) -> LLMConfig:
        keys = [m.key for m in self.models]
        if len(set(keys)) != len(keys):
            msg = f"duplicate model keys in {keys}"
            raise ValueError(msg)
        for experiment in self.experiments:
            for arm in experiment.arms:
                if arm.model not in keys:
                    msg = f"experiment {experiment.name!r} names unknown model {arm.model!r}"
                    raise ValueError(msg)
        return self

    def model(self, key: str) -> ModelProfile:
        return next(m for m in self.models if m.key == key)


def load_config(path: Path) -> LLMConfig:
    """Parse and validate the file; a mistake fails at startup, not on a user's turn."""
    with path.open("rb") as file:
        return LLMConfig.model_validate(tomllib.load(file))


# [end:config]
