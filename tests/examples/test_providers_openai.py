"""OpenAIProvider and OpenAICompatibleProvider against the real ``openai`` SDK.

Only the SDK's httpx2 transport is faked (``http_client=``): request building, retries,
SSE decoding and the typed event models are the SDK's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx2
import pytest
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
from chatbot.providers.openai import OpenAIProvider
from chatbot.providers.openai_compatible import OpenAICompatibleProvider
from openai import AsyncOpenAI
from wire import (
    DONE,
    Replay,
    chat_chunk,
    event_stream,
    json_error,
    responses_text,
    responses_tool_call,
    responses_usage,
    sse,
)

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
RATE_LIMITED = {"error": {"message": "slow down", "type": "rate_limit_error", "code": None}}
SERVER_ERROR = {"error": {"message": "boom", "type": "server_error", "code": None}}
BAD_REQUEST = {"error": {"message": "bad", "type": "invalid_request_error", "code": None}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def openai_provider(replay: Replay, max_retries: int = 2) -> OpenAIProvider:
    client = AsyncOpenAI(api_key="test-key", max_retries=max_retries, http_client=replay.client())
    return OpenAIProvider(client, model="test-model")


async def collect(
    provider: OpenAIProvider | OpenAICompatibleProvider,
    tools: Sequence[ToolSpec] = (),
    messages: Sequence[ChatMessage] = HISTORY,
) -> list[StreamEvent]:
    events = provider.stream(messages, system="Be brief.", tools=tools, max_output_tokens=64)
    return [event async for event in events]


async def test_responses_stream_text_and_usage() -> None:
    replay = Replay([event_stream(responses_text(["Hel", "lo"], responses_usage(12, 2, 8)))])
    events = await collect(openai_provider(replay))
    assert events == [TextDelta("Hel"), TextDelta("lo"), Finish("stop", Usage(12, 2, 8))]

    request = replay.requests[0]
    assert request.url.path == "/v1/responses"
    assert request.headers["authorization"] == "Bearer test-key"
    body = replay.body()
    assert body["stream"] is True
    assert body["store"] is False
    assert body["instructions"] == "Be brief."
    assert body["max_output_tokens"] == 64
    assert body["input"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "?"},
    ]
    assert "tools" not in body


async def test_responses_tool_call_uses_the_flat_tool_shape() -> None:
    replay = Replay(
        [event_stream(responses_tool_call("get_weather", {"city": "Oslo"}, responses_usage(30, 9)))]
    )
    events = await collect(openai_provider(replay), tools=[WEATHER])
    assert events == [
        ToolCall("call_abc", "get_weather", {"city": "Oslo"}),
        Finish("tool_calls", Usage(30, 9)),
    ]
    assert replay.body()["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": WEATHER.parameters,
            "strict": True,
        }
    ]


async def test_responses_incomplete_maps_to_length() -> None:
    chunks = responses_text(["cut"], responses_usage(5, 64), incomplete="max_output_tokens")
    events = await collect(openai_provider(Replay([event_stream(chunks)])))
    assert events[-1] == Finish("length", Usage(5, 64))


async def test_rate_limit_is_retried_by_the_sdk_then_succeeds() -> None:
    replay = Replay(
        [
            json_error(429, RATE_LIMITED),
            json_error(500, SERVER_ERROR),
            event_stream(responses_text(["ok"], responses_usage(1, 1))),
        ]
    )
    events = await collect(openai_provider(replay, max_retries=2))
    assert events[0] == TextDelta("ok")
    assert [r.headers["x-stainless-retry-count"] for r in replay.requests] == ["0", "1", "2"]


async def test_retries_exhausted_raise_rate_limited() -> None:
    replay = Replay([json_error(429, RATE_LIMITED) for _ in range(3)])
    with pytest.raises(ProviderRateLimited) as caught:
        await collect(openai_provider(replay, max_retries=2))
    assert caught.value.status_code == 429
    assert caught.value.retryable
    assert len(replay.requests) == 3


async def test_server_errors_become_unavailable() -> None:
    replay = Replay([json_error(503, SERVER_ERROR)])
    with pytest.raises(ProviderUnavailable):
        await collect(openai_provider(replay, max_retries=0))


async def test_bad_request_is_rejected_without_retrying() -> None:
    replay = Replay([json_error(400, BAD_REQUEST)])
    with pytest.raises(ProviderRejected) as caught:
        await collect(openai_provider(replay, max_retries=2))
    assert not caught.value.retryable
    assert len(replay.requests) == 1


async def test_connection_errors_become_unavailable() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    client = AsyncOpenAI(
        api_key="k",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(refuse)),
    )
    with pytest.raises(ProviderUnavailable):
        await collect(OpenAIProvider(client, model="m"))


async def test_error_event_mid_stream_becomes_unavailable() -> None:
    chunks = responses_text(["par"], responses_usage(1, 1))[:2]
    chunks.append(
        sse(
            "error",
            {
                "type": "error",
                "sequence_number": 2,
                "code": "server_error",
                "message": "The server had an error",
                "param": None,
            },
        )
    )
    events: list[StreamEvent] = []
    with pytest.raises(ProviderUnavailable, match="server had an error"):
        async for event in openai_provider(Replay([event_stream(chunks)])).stream(
            HISTORY, system="s"
        ):
            events.append(event)
    assert events == [TextDelta("par")]


async def test_failed_response_becomes_unavailable() -> None:
    chunks = responses_text(["x"], responses_usage(1, 1))[:1]
    failed = json.loads(chunks[0].split(b"data: ", 1)[1])["response"]
    failed |= {"status": "failed", "error": {"code": "server_error", "message": "model crashed"}}
    chunks.append(
        sse(
            "response.failed", {"type": "response.failed", "sequence_number": 1, "response": failed}
        )
    )
    with pytest.raises(ProviderUnavailable, match="model crashed"):
        await collect(openai_provider(Replay([event_stream(chunks)])))


# --- Ollama / vLLM through Chat Completions -------------------------------------------


def compatible_provider(replay: Replay, base_url: str) -> OpenAICompatibleProvider:
    client = AsyncOpenAI(
        base_url=base_url, api_key="unused", max_retries=1, http_client=replay.client()
    )
    return OpenAICompatibleProvider(client, model="local-model", name="ollama")


async def test_chat_completions_stream_with_usage_chunk() -> None:
    chunks = [
        chat_chunk({"role": "assistant", "content": ""}),
        chat_chunk({"content": "Hi"}),
        chat_chunk({"content": " there"}),
        chat_chunk({}, finish="stop"),
        chat_chunk({}, usage={"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}),
        DONE,
    ]
    replay = Replay([event_stream(chunks)])
    events = await collect(compatible_provider(replay, "http://localhost:11434/v1"))
    assert events == [TextDelta("Hi"), TextDelta(" there"), Finish("stop", Usage(9, 2))]

    request = replay.requests[0]
    assert str(request.url) == "http://localhost:11434/v1/chat/completions"
    body = replay.body()
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][1:] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "?"},
    ]
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 64


async def test_chat_completions_tool_call_fragments_are_joined() -> None:
    def fragment(index: int, **function: str) -> dict[str, object]:
        call: dict[str, object] = {"index": index, "function": function}
        if "name" in function:
            call |= {"id": f"call_{index}", "type": "function"}
        return {"tool_calls": [call]}

    chunks = [
        chat_chunk(fragment(0, name="get_weather", arguments="")),
        chat_chunk(fragment(0, arguments='{"city": ')),
        chat_chunk(fragment(0, arguments='"Oslo"}')),
        chat_chunk({}, finish="tool_calls"),
        DONE,
    ]
    replay = Replay([event_stream(chunks)])
    events = await collect(compatible_provider(replay, "http://vllm:8000/v1"), tools=[WEATHER])
    assert events == [
        ToolCall("call_0", "get_weather", {"city": "Oslo"}),
        Finish("tool_calls", None),
    ]
    assert replay.body()["tools"][0]["function"]["name"] == "get_weather"


async def test_chat_completions_server_down_becomes_unavailable() -> None:
    replay = Replay([json_error(502, SERVER_ERROR), json_error(502, SERVER_ERROR)])
    with pytest.raises(ProviderUnavailable) as caught:
        await collect(compatible_provider(replay, "http://localhost:11434/v1"))
    assert caught.value.provider == "ollama"
    assert len(replay.requests) == 2
