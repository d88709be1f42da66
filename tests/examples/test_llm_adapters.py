"""The three adapters turn their vendors' wire traffic into the same events and SSE frames.

Each provider's recorded-shape traffic (SSE event streams, error bodies and headers) is
replayed through the real SDK with only its httpx2 transport faked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx2
import pytest
from anthropic import AsyncAnthropic
from chatbot.llm.streaming import INCOMPLETE, Frame, sse_frames
from chatbot.llm.tools import SEARCH_DOCS, SearchDocs
from chatbot.providers import (
    ChatMessage,
    Finish,
    JsonSchemaFormat,
    LLMProvider,
    ProviderRateLimited,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from chatbot.providers.anthropic import AnthropicProvider
from chatbot.providers.openai import OpenAIProvider
from chatbot.providers.openai_compatible import OpenAICompatibleProvider
from openai import AsyncOpenAI
from wire import (
    DONE,
    Replay,
    anthropic_message,
    chat_chunk,
    event_stream,
    responses_text,
    responses_tool_call,
    sse,
)

pytestmark = pytest.mark.anyio

QUESTION = [ChatMessage("user", "What is the capital of France?")]
ARGS = {"query": "refund policy", "top_k": 3, "product": None}
RATE_LIMITED_OPENAI = {"error": {"message": "slow down", "type": "rate_limit_error", "code": None}}
RATE_LIMITED_ANTHROPIC = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- the same answer, as each vendor streams it -----------------------------------------


def openai_usage(total_input: int, cached: int, output: int, reasoning: int) -> dict[str, Any]:
    return {
        "input_tokens": total_input,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": total_input + output,
    }


def anthropic_stream(
    blocks: list[dict[str, Any]], stop: str, *, uncached: int, read: int, written: int, output: int
) -> list[bytes]:
    """``wire.anthropic_message`` with cache counts in ``message_start``, as the API sends."""
    chunks = anthropic_message(blocks, stop, uncached, output)
    start = json.loads(chunks[0].split(b"data: ", 1)[1])
    start["message"]["usage"] |= {
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": written,
    }
    chunks[0] = sse("message_start", start)
    return chunks


def openai(replay: Replay, **options: Any) -> OpenAIProvider:
    client = AsyncOpenAI(
        api_key="k", max_retries=options.pop("retries", 0), http_client=replay.client()
    )
    return OpenAIProvider(client, model="gpt-test", **options)


def claude(replay: Replay, **options: Any) -> AnthropicProvider:
    client = AsyncAnthropic(
        api_key="k", max_retries=options.pop("retries", 0), http_client=replay.client()
    )
    return AnthropicProvider(client, model="claude-test", **options)


def vllm(replay: Replay) -> OpenAICompatibleProvider:
    client = AsyncOpenAI(
        base_url="http://vllm:8000/v1", api_key="k", max_retries=0, http_client=replay.client()
    )
    return OpenAICompatibleProvider(client, model="llama-test", name="vllm")


def text_answer() -> dict[str, LLMProvider]:
    """ "Paris." from each vendor: 1,200 input tokens of which 1,000 cached, 4 output."""
    return {
        "openai": openai(
            Replay([event_stream(responses_text(["Par", "is."], openai_usage(1200, 1000, 4, 0)))])
        ),
        "anthropic": claude(
            Replay(
                [
                    event_stream(
                        anthropic_stream(
                            [{"text": ["Par", "is."]}],
                            "end_turn",
                            uncached=200,
                            read=1000,
                            written=0,
                            output=4,
                        )
                    )
                ]
            )
        ),
        "vllm": vllm(
            Replay(
                [
                    event_stream(
                        [
                            chat_chunk({"role": "assistant", "content": ""}),
                            chat_chunk({"content": "Par"}),
                            chat_chunk({"content": "is."}),
                            chat_chunk({}, finish="stop"),
                            chat_chunk(
                                {},
                                usage={
                                    "prompt_tokens": 1200,
                                    "completion_tokens": 4,
                                    "total_tokens": 1204,
                                    "prompt_tokens_details": {"cached_tokens": 1000},
                                },
                            ),
                            DONE,
                        ]
                    )
                ]
            )
        ),
    }


async def collect(provider: LLMProvider, **options: Any) -> list[StreamEvent]:
    options.setdefault("system", "Answer in one word.")
    return [event async for event in provider.stream(QUESTION, **options)]


async def frames(provider: LLMProvider, **options: Any) -> list[Frame]:
    options.setdefault("system", "Answer in one word.")
    return [frame async for frame in sse_frames(provider.stream(QUESTION, **options))]


# [start:parity]
async def test_all_three_vendors_produce_the_same_events() -> None:
    expected = [
        TextDelta("Par"),
        TextDelta("is."),
        Finish("stop", Usage(input_tokens=1200, output_tokens=4, cached_input_tokens=1000)),
    ]
    for name, provider in text_answer().items():
        assert await collect(provider) == expected, name


async def test_all_three_vendors_produce_the_same_sse_frames() -> None:
    results = {name: await frames(p) for name, p in text_answer().items()}
    assert results["openai"] == results["anthropic"] == results["vllm"]
    assert [f.event for f in results["openai"]] == ["token", "token", "done"]
    assert results["openai"][-1].data["usage"]["cached_input_tokens"] == 1000


# [end:parity]


async def test_the_finish_event_names_the_model_for_pricing() -> None:
    for provider in text_answer().values():
        finish = (await collect(provider))[-1]
        assert isinstance(finish, Finish)
        assert finish.model in {"gpt-test", "claude-test", "llama-test"}


async def test_anthropic_cache_writes_and_reads_add_up_to_the_input() -> None:
    chunks = anthropic_stream(
        [{"text": ["ok"]}], "end_turn", uncached=50, read=3000, written=900, output=2
    )
    events = await collect(claude(Replay([event_stream(chunks)])))
    assert events[-1] == Finish("stop", Usage(3950, 2, 3000, 900))


async def test_openai_reasoning_tokens_are_reported_inside_output() -> None:
    stream = responses_text(["ok"], openai_usage(10, 0, 250, 240))
    events = await collect(openai(Replay([event_stream(stream)])))
    assert events[-1] == Finish("stop", Usage(10, 250, 0, 0, 240))


# --- tools: one definition, three shapes, one event --------------------------------------


async def test_one_tool_definition_reaches_each_vendor_in_its_shape() -> None:
    replays = {
        "openai": Replay(
            [event_stream(responses_tool_call("search_docs", ARGS, openai_usage(90, 0, 20, 0)))]
        ),
        "anthropic": Replay(
            [
                event_stream(
                    anthropic_message(
                        [
                            {
                                "tool": "search_docs",
                                "json": [
                                    '{"query": "refund policy", ',
                                    '"top_k": 3, "product": null}',
                                ],
                            }
                        ],
                        "tool_use",
                        90,
                        20,
                    )
                )
            ]
        ),
        "vllm": Replay(
            [
                event_stream(
                    [
                        chat_chunk(
                            {
                                "tool_calls": [
                                    {
                                        "index": 0,
                                        "id": "call_0",
                                        "type": "function",
                                        "function": {
                                            "name": "search_docs",
                                            "arguments": json.dumps(ARGS),
                                        },
                                    }
                                ]
                            }
                        ),
                        chat_chunk({}, finish="tool_calls"),
                        DONE,
                    ]
                )
            ]
        ),
    }
    providers = {"openai": openai, "anthropic": claude, "vllm": vllm}
    for name, replay in replays.items():
        events = await collect(providers[name](replay), tools=[SEARCH_DOCS])
        call = events[0]
        assert isinstance(call, ToolCall), name
        assert (call.name, call.arguments) == ("search_docs", ARGS), name
        assert SearchDocs.model_validate(call.arguments).top_k == 3
        assert isinstance(events[-1], Finish) and events[-1].reason == "tool_calls", name

    schema = SEARCH_DOCS.parameters
    assert replays["openai"].body()["tools"][0]["parameters"] == schema
    assert replays["anthropic"].body()["tools"][0]["input_schema"] == schema
    assert replays["vllm"].body()["tools"][0]["function"]["parameters"] == schema


def test_the_shared_schema_is_strict_mode_safe() -> None:
    schema = SEARCH_DOCS.parameters
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["query", "top_k", "product"]  # optional = nullable
    assert {"type": "null"} in schema["properties"]["product"]["anyOf"]
    assert "title" not in json.dumps(schema)
    assert SEARCH_DOCS.description.startswith("Search the product documentation")


def tool_round_trip() -> list[ChatMessage]:
    call_a = ToolCall("call_a", "search_docs", ARGS)
    call_b = ToolCall("call_b", "search_docs", ARGS | {"product": "billing"})
    return [
        ChatMessage("user", "How do refunds work?"),
        ChatMessage("assistant", "Let me check.", tool_calls=(call_a, call_b)),
        ChatMessage.tool_result("call_a", '{"passages": ["30 days"]}'),
        ChatMessage.tool_result("call_b", "index unavailable", is_error=True),
    ]


async def send(provider: LLMProvider, messages: Sequence[ChatMessage], **options: Any) -> None:
    async for _ in provider.stream(messages, system="s", **options):
        pass


async def test_tool_results_go_back_as_responses_items() -> None:
    replay = Replay([event_stream(responses_text(["ok"], openai_usage(1, 0, 1, 0)))])
    await send(openai(replay), tool_round_trip())
    assert replay.body()["input"] == [
        {"role": "user", "content": "How do refunds work?"},
        {"role": "assistant", "content": "Let me check."},
        {
            "type": "function_call",
            "call_id": "call_a",
            "name": "search_docs",
            "arguments": json.dumps(ARGS),
        },
        {
            "type": "function_call",
            "call_id": "call_b",
            "name": "search_docs",
            "arguments": json.dumps(ARGS | {"product": "billing"}),
        },
        {
            "type": "function_call_output",
            "call_id": "call_a",
            "output": '{"passages": ["30 days"]}',
        },
        {"type": "function_call_output", "call_id": "call_b", "output": "index unavailable"},
    ]


async def test_tool_results_go_back_as_one_anthropic_user_turn() -> None:
    replay = Replay([event_stream(anthropic_message([{"text": ["ok"]}], "end_turn", 1, 1))])
    await send(claude(replay), tool_round_trip())
    messages = replay.body()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "call_a", "name": "search_docs", "input": ARGS},
        {
            "type": "tool_use",
            "id": "call_b",
            "name": "search_docs",
            "input": ARGS | {"product": "billing"},
        },
    ]
    assert messages[2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "call_a",
            "content": '{"passages": ["30 days"]}',
            "is_error": False,
        },
        {
            "type": "tool_result",
            "tool_use_id": "call_b",
            "content": "index unavailable",
            "is_error": True,
        },
    ]


async def test_tool_results_go_back_as_chat_completions_tool_messages() -> None:
    replay = Replay(
        [event_stream([chat_chunk({"content": "ok"}), chat_chunk({}, finish="stop"), DONE])]
    )
    await send(vllm(replay), tool_round_trip())
    messages = replay.body()["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool"]
    assert [c["id"] for c in messages[2]["tool_calls"]] == ["call_a", "call_b"]
    assert messages[3] == {
        "role": "tool",
        "tool_call_id": "call_a",
        "content": '{"passages": ["30 days"]}',
    }


# --- structured output and caching, on the wire --------------------------------------------


ANSWER = JsonSchemaFormat(
    "answer",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
)


async def test_structured_output_request_shapes() -> None:
    r_openai = Replay(
        [event_stream(responses_text(['{"city": "Paris"}'], openai_usage(5, 0, 5, 0)))]
    )
    r_claude = Replay(
        [event_stream(anthropic_message([{"text": ['{"city": "Paris"}']}], "end_turn", 5, 5))]
    )
    r_vllm = Replay(
        [
            event_stream(
                [chat_chunk({"content": '{"city": "Paris"}'}), chat_chunk({}, finish="stop"), DONE]
            )
        ]
    )
    for provider in (openai(r_openai), claude(r_claude), vllm(r_vllm)):
        events = await collect(provider, response_format=ANSWER)
        text = "".join(e.text for e in events if isinstance(e, TextDelta))
        assert json.loads(text) == {"city": "Paris"}

    assert r_openai.body()["text"] == {
        "format": {"type": "json_schema", "name": "answer", "schema": ANSWER.schema, "strict": True}
    }
    assert r_claude.body()["output_config"] == {
        "format": {"type": "json_schema", "schema": ANSWER.schema}
    }
    assert r_vllm.body()["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": ANSWER.schema, "strict": True},
    }


async def test_prompt_caching_switches() -> None:
    r_claude = Replay(
        [event_stream(anthropic_message([{"text": ["ok"]}], "end_turn", 1, 1)) for _ in range(2)]
    )
    await send(claude(r_claude), QUESTION)
    assert r_claude.body()["cache_control"] == {"type": "ephemeral", "ttl": "5m"}
    await send(claude(r_claude, cache_ttl=None), QUESTION)
    assert "cache_control" not in r_claude.body()

    r_openai = Replay([event_stream(responses_text(["ok"], openai_usage(1, 0, 1, 0)))])
    await send(openai(r_openai, prompt_cache_key="tenant-42", reasoning_effort="low"), QUESTION)
    body = r_openai.body()
    assert body["prompt_cache_key"] == "tenant-42"
    assert body["reasoning"] == {"effort": "low"}


async def test_refusal_streams_as_text_and_finishes_as_content_filter() -> None:
    chunks = responses_text(["x"], openai_usage(3, 0, 4, 0))
    refusal = {
        "type": "response.refusal.delta",
        "sequence_number": 1,
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "I can't help with that.",
    }
    chunks[1] = sse("response.refusal.delta", refusal)  # in place of the text delta
    events = await collect(openai(Replay([event_stream(chunks)])))
    assert events[0] == TextDelta("I can't help with that.")
    assert isinstance(events[-1], Finish) and events[-1].reason == "content_filter"


# --- errors: 429 with retry-after, request ids, a cut stream -------------------------------


async def test_rate_limit_carries_retry_after_and_request_id() -> None:
    limited = httpx2.Response(
        429, json=RATE_LIMITED_OPENAI, headers={"retry-after": "7", "x-request-id": "req_o1"}
    )
    with pytest.raises(ProviderRateLimited) as caught:
        await collect(openai(Replay([limited])))
    assert (caught.value.retry_after_s, caught.value.request_id) == (7.0, "req_o1")

    limited = httpx2.Response(
        429, json=RATE_LIMITED_ANTHROPIC, headers={"retry-after": "12", "request-id": "req_a1"}
    )
    with pytest.raises(ProviderRateLimited) as caught:
        await collect(claude(Replay([limited])))
    assert (caught.value.retry_after_s, caught.value.request_id) == (12.0, "req_a1")


async def test_openai_sdk_will_not_wait_out_a_long_retry_after() -> None:
    """Above 120 s the SDK gives up at once instead of sleeping; the error keeps the hint."""
    replay = Replay(
        [
            httpx2.Response(429, json=RATE_LIMITED_OPENAI, headers={"retry-after": "300"})
            for _ in range(3)
        ]
    )
    with pytest.raises(ProviderRateLimited) as caught:
        await collect(openai(replay, retries=2))
    assert len(replay.requests) == 1
    assert caught.value.retry_after_s == 300.0


async def test_an_sse_error_frame_tells_the_client_what_it_may_do() -> None:
    limited = httpx2.Response(429, json=RATE_LIMITED_OPENAI, headers={"retry-after": "7"})
    result = await frames(openai(Replay([limited])))
    assert result == [
        Frame("error", {"code": "provider_rate_limited", "retryable": True, "retry_after_s": 7.0})
    ]


async def test_a_stream_cut_before_completion_ends_with_an_error_frame() -> None:
    cut = responses_text(["Par", "is."], openai_usage(1, 0, 1, 0))[:3]  # no completed event
    result = await frames(openai(Replay([event_stream(cut)])))
    assert [f.event for f in result] == ["token", "token", "error"]
    assert result[-1] == INCOMPLETE


async def test_the_end_user_pseudonym_reaches_each_vendors_abuse_field() -> None:
    r_openai = Replay([event_stream(responses_text(["ok"], openai_usage(1, 0, 1, 0)))])
    r_claude = Replay([event_stream(anthropic_message([{"text": ["ok"]}], "end_turn", 1, 1))])
    await send(openai(r_openai), QUESTION, user_ref="u_5f2c")
    await send(claude(r_claude), QUESTION, user_ref="u_5f2c")
    assert r_openai.body()["safety_identifier"] == "u_5f2c"
    assert "user" not in r_openai.body()  # the deprecated field
    assert r_claude.body()["metadata"] == {"user_id": "u_5f2c"}


async def test_anthropic_sdk_pins_the_api_version_and_sends_a_bearer_token() -> None:
    replay = Replay([event_stream(anthropic_message([{"text": ["ok"]}], "end_turn", 1, 1))])
    await send(claude(replay), QUESTION)
    headers = replay.requests[0].headers
    assert headers["anthropic-version"] == "2026-10-21"
    assert headers["authorization"] == "Bearer k"
    assert "x-api-key" not in headers
    assert not {"temperature", "top_p", "top_k"} & replay.body().keys()
