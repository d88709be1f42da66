"""AnthropicProvider against the real ``anthropic`` SDK, its httpx2 transport faked."""

from __future__ import annotations

import pytest
from anthropic import AsyncAnthropic
from chatbot.providers import (
    ChatMessage,
    Finish,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from chatbot.providers.anthropic import AnthropicProvider
from wire import Replay, anthropic_message, event_stream, json_error, sse

pytestmark = pytest.mark.anyio

WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
)
HISTORY = [ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello"), ChatMessage("user", "?")]
OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
INVALID = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
RATE_LIMITED = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def provider(replay: Replay, max_retries: int = 2) -> AnthropicProvider:
    client = AsyncAnthropic(
        api_key="test-key", max_retries=max_retries, http_client=replay.client()
    )
    return AnthropicProvider(client, model="test-model")


async def collect(p: AnthropicProvider, tools: list[ToolSpec] | None = None) -> list[StreamEvent]:
    return [e async for e in p.stream(HISTORY, system="Be brief.", tools=tools or [])]


async def test_text_stream_with_final_usage() -> None:
    replay = Replay([event_stream(anthropic_message([{"text": ["Hel", "lo"]}], "end_turn", 21, 2))])
    events = await collect(provider(replay))
    assert events == [TextDelta("Hel"), TextDelta("lo"), Finish("stop", Usage(21, 2))]

    request = replay.requests[0]
    assert request.url.path == "/v1/messages"
    assert request.headers["authorization"] == "Bearer test-key"  # 2.x: no x-api-key
    assert "anthropic-version" in request.headers
    body = replay.body()
    assert body["system"] == "Be brief."  # top level, not a message
    assert body["stream"] is True
    assert body["max_tokens"] == 1024
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "?"},
    ]
    assert not {"temperature", "top_p", "top_k", "tools"} & body.keys()


async def test_tool_use_arrives_as_one_parsed_call() -> None:
    blocks = [
        {"text": ["Checking."]},
        {"tool": "get_weather", "json": ['{"ci', 'ty": "Os', 'lo"}']},
    ]
    replay = Replay([event_stream(anthropic_message(blocks, "tool_use", 40, 12))])
    events = await collect(provider(replay), tools=[WEATHER])
    assert events == [
        TextDelta("Checking."),
        ToolCall("toolu_1", "get_weather", {"city": "Oslo"}),
        Finish("tool_calls", Usage(40, 12)),
    ]
    assert replay.body()["tools"] == [
        {
            "name": "get_weather",
            "description": WEATHER.description,
            "input_schema": WEATHER.parameters,
            "strict": True,
        }
    ]


async def test_max_tokens_maps_to_length() -> None:
    replay = Replay([event_stream(anthropic_message([{"text": ["cut"]}], "max_tokens", 3, 1024))])
    assert (await collect(provider(replay)))[-1] == Finish("length", Usage(3, 1024))


async def test_overloaded_529_is_retried_then_succeeds() -> None:
    replay = Replay(
        [
            json_error(529, OVERLOADED),
            event_stream(anthropic_message([{"text": ["ok"]}], "end_turn", 1, 1)),
        ]
    )
    events = await collect(provider(replay))
    assert events[0] == TextDelta("ok")
    assert len(replay.requests) == 2


async def test_overloaded_mid_stream_becomes_unavailable() -> None:
    chunks = anthropic_message([{"text": ["par", "tial"]}], "end_turn", 1, 1)[:4]
    chunks.append(sse("error", OVERLOADED))
    seen: list[StreamEvent] = []
    with pytest.raises(ProviderUnavailable):
        async for event in provider(Replay([event_stream(chunks)])).stream(HISTORY, system="s"):
            seen.append(event)
    assert seen == [TextDelta("par")]


async def test_rate_limit_after_retries() -> None:
    replay = Replay([json_error(429, RATE_LIMITED) for _ in range(2)])
    with pytest.raises(ProviderRateLimited):
        await collect(provider(replay, max_retries=1))
    assert len(replay.requests) == 2


async def test_invalid_request_is_rejected_without_retrying() -> None:
    replay = Replay([json_error(400, INVALID)])
    with pytest.raises(ProviderRejected) as caught:
        await collect(provider(replay))
    assert caught.value.status_code == 400
    assert len(replay.requests) == 1
