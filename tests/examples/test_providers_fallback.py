"""FallbackProvider across two real SDK clients, and the factory that builds providers."""

from __future__ import annotations

import pytest
from anthropic import AsyncAnthropic
from chatbot.providers import (
    ChatMessage,
    Finish,
    ProviderRejected,
    ProviderUnavailable,
    TextDelta,
    Usage,
    build_provider,
)
from chatbot.providers.anthropic import AnthropicProvider
from chatbot.providers.fake import FakeProvider
from chatbot.providers.fallback import FallbackProvider
from chatbot.providers.openai import OpenAIProvider
from chatbot.providers.openai_compatible import OpenAICompatibleProvider
from chatbot.settings import Settings
from openai import AsyncOpenAI
from wire import (
    Replay,
    anthropic_message,
    event_stream,
    json_error,
    responses_text,
    responses_usage,
    sse,
)

pytestmark = pytest.mark.anyio
HISTORY = [ChatMessage("user", "Hi")]
DOWN = {"error": {"message": "down", "type": "server_error", "code": None}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def openai_primary(replay: Replay) -> OpenAIProvider:
    client = AsyncOpenAI(api_key="k", max_retries=0, http_client=replay.client())
    return OpenAIProvider(client, model="primary-model")


def anthropic_secondary(replay: Replay) -> AnthropicProvider:
    client = AsyncAnthropic(api_key="k", max_retries=0, http_client=replay.client())
    return AnthropicProvider(client, model="secondary-model")


async def test_falls_back_when_the_primary_is_down() -> None:
    primary = Replay([json_error(503, DOWN)])
    secondary = Replay([event_stream(anthropic_message([{"text": ["Hi!"]}], "end_turn", 4, 2))])
    fallback = FallbackProvider(openai_primary(primary), anthropic_secondary(secondary))
    events = [e async for e in fallback.stream(HISTORY, system="s")]
    assert events == [TextDelta("Hi!"), Finish("stop", Usage(4, 2))]
    assert len(primary.requests) == 1
    assert secondary.body()["model"] == "secondary-model"


async def test_no_fallback_once_text_has_been_streamed() -> None:
    chunks = responses_text(["par"], responses_usage(1, 1))[:2]
    chunks.append(
        sse(
            "error",
            {
                "type": "error",
                "sequence_number": 2,
                "code": "server_error",
                "message": "died",
                "param": None,
            },
        )
    )
    secondary = Replay([])
    fallback = FallbackProvider(
        openai_primary(Replay([event_stream(chunks)])), anthropic_secondary(secondary)
    )
    seen = []
    with pytest.raises(ProviderUnavailable):
        async for event in fallback.stream(HISTORY, system="s"):
            seen.append(event)
    assert seen == [TextDelta("par")]
    assert secondary.requests == []


async def test_no_fallback_for_a_rejected_request() -> None:
    invalid = {"error": {"message": "bad", "type": "invalid_request_error", "code": None}}
    secondary = Replay([])
    fallback = FallbackProvider(
        openai_primary(Replay([json_error(400, invalid)])), anthropic_secondary(secondary)
    )
    with pytest.raises(ProviderRejected):
        [e async for e in fallback.stream(HISTORY, system="s")]
    assert secondary.requests == []


async def test_last_provider_error_propagates() -> None:
    fallback = FallbackProvider(
        openai_primary(Replay([json_error(503, DOWN)])),
        openai_primary(Replay([json_error(502, DOWN)])),
    )
    with pytest.raises(ProviderUnavailable) as caught:
        [e async for e in fallback.stream(HISTORY, system="s")]
    assert caught.value.status_code == 502


def test_fallback_needs_a_provider() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FallbackProvider()


async def test_factory_builds_each_configured_provider() -> None:
    assert isinstance(build_provider(Settings()), FakeProvider)

    openai = build_provider(Settings(llm_provider="openai", chat_model="m", openai_api_key="k"))  # type: ignore[arg-type]
    assert isinstance(openai, OpenAIProvider)

    claude = build_provider(
        Settings(llm_provider="anthropic", chat_model="m", anthropic_api_key="k")  # type: ignore[arg-type]
    )
    assert isinstance(claude, AnthropicProvider)

    ollama = build_provider(Settings(llm_provider="ollama", chat_model="m"))
    assert isinstance(ollama, OpenAICompatibleProvider)
    assert ollama.name == "ollama"
    assert str(ollama._client.base_url) == "http://localhost:11434/v1/"

    vllm = build_provider(
        Settings(llm_provider="vllm", chat_model="m", vllm={"base_url": "http://gpu:8000/v1"})  # type: ignore[arg-type]
    )
    assert isinstance(vllm, OpenAICompatibleProvider)
    assert str(vllm._client.base_url) == "http://gpu:8000/v1/"

    both = build_provider(
        Settings(llm_provider="ollama", llm_fallback_provider="fake", chat_model="m")
    )
    assert isinstance(both, FallbackProvider)
    assert [p.name for p in both.providers] == ["ollama", "fake"]
    for provider in (openai, claude, ollama, vllm, both):
        await provider.aclose()
