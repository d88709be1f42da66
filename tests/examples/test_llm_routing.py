"""Model routing, the fallback chain with its breakers, costs and model experiments.

The catalog is the real ``config/llm.toml``; the fallback tests run real SDK clients
over faked transports, including a 429 whose ``retry-after`` would stall the turn.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from anthropic import AsyncAnthropic
from chatbot.architecture.circuit import State
from chatbot.llm.abtest import Assignment, assign, bucket
from chatbot.llm.catalog import LLMConfig, load_config
from chatbot.llm.costs import CostCalculator, usage_cost
from chatbot.llm.router import ModelRouter, NoRoute, RouteRequest
from chatbot.providers import (
    ChatMessage,
    Finish,
    ProviderRejected,
    ProviderUnavailable,
    TextDelta,
    ToolCall,
    Usage,
)
from chatbot.providers.anthropic import AnthropicProvider
from chatbot.providers.fallback import Breakers, FallbackProvider
from chatbot.providers.openai import OpenAIProvider
from conftest import BACKEND
from openai import AsyncOpenAI
from pydantic import ValidationError
from wire import (
    Replay,
    anthropic_message,
    event_stream,
    json_error,
    responses_text,
    responses_tool_call,
    responses_usage,
    sse,
)

CONFIG_PATH = BACKEND / "config" / "llm.toml"
HI = [ChatMessage("user", "Hi")]
DOWN = {"error": {"message": "down", "type": "server_error", "code": None}}
INVALID = {"error": {"message": "bad", "type": "invalid_request_error", "code": None}}
RATE_LIMITED = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}


@pytest.fixture(scope="module")
def config() -> LLMConfig:
    return load_config(CONFIG_PATH)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def request(text: str = "hi", **overrides: Any) -> RouteRequest:
    values: dict[str, Any] = {"text": text, "input_tokens": 2_000, "max_output_tokens": 1_000}
    return RouteRequest(**(values | overrides))


# --- the router ------------------------------------------------------------------------


def test_the_config_file_loads_and_states_its_price_date(config: LLMConfig) -> None:
    assert config.price_date == dt.date(2026, 11, 24)
    assert {m.provider for m in config.models} >= {"openai", "anthropic", "vllm"}


def test_rules_only_raise_the_tier(config: LLMConfig) -> None:
    router = ModelRouter(config)
    assert router.required_tier("thanks!") == 1
    assert router.required_tier("x" * 300) == 2
    assert router.required_tier("Why does this fail?\n```python\nimport x\n```") == 3
    assert router.required_tier("Please COMPARE these two plans") == 3


def test_cheapest_capable_model_wins_and_another_vendor_backs_it_up(config: LLMConfig) -> None:
    route = ModelRouter(config).route(request("thanks!"))
    # Tier 1 accepts any model; the self-hosted one is cheapest per token.
    assert route.models[0].key == "llama-scout"
    assert route.models[1].provider != "vllm"  # first fallback: a different vendor
    assert route.reason == "tier 1: cheapest capable model"
    hosted = ModelRouter(config).route(
        request("thanks!", allowed_providers=frozenset({"openai", "anthropic"}))
    )
    assert hosted.models[0].key == "gpt-small"
    assert hosted.models[1].provider == "anthropic"

    hard = ModelRouter(config).route(request("step by step, compare A and B"))
    assert hard.tier == 3
    assert hard.models[0].key == "claude-sonnet"  # cheaper of the two tier-3 models
    assert hard.models[1].provider == "openai"


def test_capabilities_context_and_residency_filter(config: LLMConfig) -> None:
    router = ModelRouter(config)
    vision = router.route(request("x" * 300, needs=frozenset({"vision"})))
    assert all("vision" in m.capabilities for m in vision.models)

    long = router.route(request("x" * 300, input_tokens=150_000))
    assert "llama-scout" not in {m.key for m in long.models}  # 32k window
    assert "gpt-small" not in {m.key for m in long.models}  # 128k window

    eu_only = router.route(request("x" * 300, allowed_providers=frozenset({"vllm"})))
    assert [m.key for m in eu_only.models] == ["llama-scout"]


def test_unhealthy_providers_go_last(config: LLMConfig) -> None:
    router = ModelRouter(config, is_healthy=lambda provider: provider != "vllm")
    route = router.route(request("thanks!"))
    assert route.models[0].key == "gpt-small"
    assert route.models[-1].provider == "vllm"


def test_budget_and_impossible_requests(config: LLMConfig) -> None:
    router = ModelRouter(config)
    cheap = router.route(request("compare these", max_cost=Decimal("0.001")))
    assert cheap.tier == 3
    assert cheap.reason.startswith("tier 3 unavailable: degraded")
    assert cheap.estimated_cost <= Decimal("0.001")
    with pytest.raises(NoRoute, match="exceed every context window"):
        router.route(request(input_tokens=1_000_000))
    with pytest.raises(NoRoute, match="no model offers"):
        router.route(request(allowed_providers=frozenset({"vllm"}), needs=frozenset({"vision"})))


# --- costs -----------------------------------------------------------------------------


def test_cost_of_a_cached_anthropic_turn(config: LLMConfig) -> None:
    sonnet = config.model("claude-sonnet").prices
    # 10k input: 8k read from cache, 1k written to it, 1k plain; 500 output.
    usage = Usage(10_000, 500, cached_input_tokens=8_000, cache_write_input_tokens=1_000)
    expected = (1_000 * 3 + 8_000 * Decimal("0.30") + 1_000 * Decimal("3.75") + 500 * 15) / 10**6
    assert usage_cost(usage, sonnet) == expected == Decimal("0.01665")
    uncached = usage_cost(Usage(10_000, 500), sonnet)
    assert uncached == Decimal("0.0375")  # caching saved 56 %


def test_calculator_prices_by_model_id_and_flags_stale_prices(config: LLMConfig) -> None:
    fresh = CostCalculator(config, today=dt.date(2026, 12, 1))
    assert not fresh.stale
    assert fresh.cost("gpt-5.4-mini", Usage(1_000_000, 0)) == Decimal("0.75")
    assert fresh.cost("unknown-model", Usage(1, 1)) is None
    assert CostCalculator(config, today=dt.date(2027, 6, 1)).stale


def test_config_rejects_an_experiment_on_an_unknown_model(config: LLMConfig) -> None:
    raw = config.model_dump()
    raw["experiments"][0]["arms"][1]["model"] = "gpt-typo"
    with pytest.raises(ValidationError, match="unknown model 'gpt-typo'"):
        LLMConfig.model_validate(raw)


# --- experiments -------------------------------------------------------------------------


# [start:abtest]
def test_assignment_is_sticky_balanced_and_scoped(config: LLMConfig) -> None:
    users = [f"user-{n}" for n in range(20_000)]
    arms = Counter(
        a.arm
        if (a := assign(config.experiments, user_id=u, conversation_id="c", tenant_id="t"))
        else "out"
        for u in users
    )
    assert 1_800 < arms["control"] + arms["treatment"] < 2_200  # 10 % of users
    assert abs(arms["control"] - arms["treatment"]) < 200  # 50/50 within noise
    again = assign(config.experiments, user_id="user-7", conversation_id="x", tenant_id="y")
    first = assign(config.experiments, user_id="user-7", conversation_id="c", tenant_id="t")
    assert again == first  # the unit is the user: conversation and tenant do not matter


# [end:abtest]


def test_raising_traffic_keeps_existing_assignments(config: LLMConfig) -> None:
    small = config.experiments
    large = [small[0].model_copy(update={"traffic_percent": 30})]
    for n in range(5_000):
        before = assign(small, user_id=str(n), conversation_id="c", tenant_id="t")
        if before is not None:
            assert assign(large, user_id=str(n), conversation_id="c", tenant_id="t") == before


def test_buckets_are_uniform() -> None:
    counts = Counter(bucket("s", str(n)) * 10 // 10_000 for n in range(50_000))
    assert max(counts.values()) - min(counts.values()) < 500  # ten deciles of ~5,000


def test_an_arm_pins_the_model_only_for_its_tier(config: LLMConfig) -> None:
    router = ModelRouter(config)
    arm = Assignment("support-sonnet-vs-gpt-large", "treatment", "gpt-large", tier=3)
    hard = router.route(request("compare these plans"), assignment=arm)
    assert hard.models[0].key == "gpt-large"
    assert hard.experiment == ("support-sonnet-vs-gpt-large", "treatment")
    easy = router.route(request("thanks!"), assignment=arm)
    assert easy.models[0].key == "llama-scout"  # a tier-1 turn is outside the experiment
    assert easy.experiment is None


# --- the fallback chain with real SDK clients -------------------------------------------------


def openai_provider(replay: Replay, retries: int = 0) -> OpenAIProvider:
    client = AsyncOpenAI(api_key="k", max_retries=retries, http_client=replay.client())
    return OpenAIProvider(client, model="gpt-test")


def claude_provider(replay: Replay, retries: int = 0) -> AnthropicProvider:
    client = AsyncAnthropic(api_key="k", max_retries=retries, http_client=replay.client())
    return AnthropicProvider(client, model="claude-test")


def answer(text: str = "Hi!") -> httpx2.Response:
    return event_stream(anthropic_message([{"text": [text]}], "end_turn", 4, 2))


async def run(chain: FallbackProvider) -> list[Any]:
    return [event async for event in chain.stream(HI, system="s")]


@pytest.mark.anyio
async def test_breaker_opens_and_the_next_turn_skips_the_provider_without_a_request() -> None:
    breakers = Breakers(min_calls=2, failure_rate=0.5, open_for_s=60)
    primary = Replay([json_error(503, DOWN), json_error(503, DOWN)])
    secondary = Replay([answer(), answer(), answer()])
    for _ in range(3):
        chain = FallbackProvider(
            openai_provider(primary), claude_provider(secondary), breakers=breakers
        )
        assert await run(chain) == [TextDelta("Hi!"), Finish("stop", Usage(4, 2))]
    assert len(primary.requests) == 2  # the third turn never called it
    assert breakers("openai").state is State.OPEN
    assert breakers("anthropic").state is State.CLOSED


@pytest.mark.anyio
async def test_a_rejected_request_neither_falls_back_nor_opens_the_breaker() -> None:
    breakers = Breakers(min_calls=2, failure_rate=0.5)
    for _ in range(3):
        secondary = Replay([])
        chain = FallbackProvider(
            openai_provider(Replay([json_error(400, INVALID)])),
            claude_provider(secondary),
            breakers=breakers,
        )
        with pytest.raises(ProviderRejected):
            await run(chain)
        assert secondary.requests == []
    assert breakers("openai").state is State.CLOSED


# [start:deadline-test]
@pytest.mark.anyio
async def test_first_event_deadline_beats_a_long_retry_after() -> None:
    """Anthropic's SDK sleeps for the whole ``retry-after`` before retrying a 429.

    Thirty seconds of silence is a lost user; the chain's first-event deadline moves the
    turn to the other vendor instead.
    """
    stalled = Replay(
        [httpx2.Response(429, json=RATE_LIMITED, headers={"retry-after": "30"}), answer()]
    )
    backup = Replay([event_stream(responses_text(["Hi!"], responses_usage(4, 2)))])
    chain = FallbackProvider(
        claude_provider(stalled, retries=2),
        openai_provider(backup),
        breakers=Breakers(),
        first_event_timeout_s=0.5,
    )
    started = time.monotonic()
    events = await run(chain)
    assert time.monotonic() - started < 5
    assert events == [TextDelta("Hi!"), Finish("stop", Usage(4, 2))]
    assert len(stalled.requests) == 1  # the retry never happened: it was cancelled


# [end:deadline-test]


@pytest.mark.anyio
async def test_no_fallback_after_a_tool_call_was_emitted() -> None:
    """A tool call is a commitment too: the caller may already be running it."""
    chunks = responses_tool_call("search_docs", {"query": "q"}, responses_usage(1, 1))[:4]
    chunks.append(
        sse(
            "error",
            {
                "type": "error",
                "sequence_number": 4,
                "code": "server_error",
                "message": "died",
                "param": None,
            },
        )
    )
    secondary = Replay([])
    chain = FallbackProvider(
        openai_provider(Replay([event_stream(chunks)])), claude_provider(secondary)
    )
    seen: list[Any] = []
    with pytest.raises(ProviderUnavailable):
        async for event in chain.stream(HI, system="s"):
            seen.append(event)
    assert seen == [ToolCall("call_abc", "search_docs", {"query": "q"})]
    assert secondary.requests == []


@pytest.mark.anyio
async def test_every_provider_open_reports_unavailable_with_a_retry_hint() -> None:
    breakers = Breakers(min_calls=1, failure_rate=0.5, open_for_s=60)
    chain = FallbackProvider(openai_provider(Replay([json_error(503, DOWN)])), breakers=breakers)
    with pytest.raises(ProviderUnavailable):
        await run(chain)
    chain = FallbackProvider(openai_provider(Replay([])), breakers=breakers)
    with pytest.raises(ProviderUnavailable, match="circuit 'openai' is open") as caught:
        await run(chain)
    assert caught.value.retry_after_s is not None and caught.value.retry_after_s > 50
