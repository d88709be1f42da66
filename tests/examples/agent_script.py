"""Scripted model transcripts for agent tests, served through the real provider adapters.

A script is a list of :class:`Turn`; each model call the agent makes receives the next
turn, encoded the way the vendor's server streams it (Responses API events, Messages API
events, or Chat Completions chunks). The SDK clients and the adapters are real; only the
httpx2 transport is replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2
from anthropic import AsyncAnthropic
from chatbot.providers.anthropic import AnthropicProvider
from chatbot.providers.base import LLMProvider
from chatbot.providers.openai import OpenAIProvider
from chatbot.providers.openai_compatible import OpenAICompatibleProvider
from openai import AsyncOpenAI
from wire import Replay, event_stream, sse

Vendor = Literal["openai", "anthropic", "vllm"]
VENDORS: tuple[Vendor, ...] = ("openai", "anthropic", "vllm")


@dataclass
class Turn:
    """What the model "says" in one call: text, tool calls, and the usage billed for it.

    A call's arguments are a dict, or a raw string to send verbatim (malformed JSON).
    """

    text: str = ""
    calls: list[tuple[str, str, dict[str, Any] | str]] = field(default_factory=list)
    input_tokens: int = 100
    output_tokens: int = 20


def say(text: str, **usage: int) -> Turn:
    return Turn(text=text, **usage)


def call(name: str, arguments: dict[str, Any] | str, call_id: str = "c1", **usage: int) -> Turn:
    return Turn(calls=[(call_id, name, arguments)], **usage)


def _raw(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


# --- OpenAI Responses API -------------------------------------------------------------


def _response(status: str, output: list[Any], usage: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": "test-model",
        "status": status,
        "output": output,
        "usage": usage,
        "error": None,
        "incomplete_details": None,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def openai_turn(turn: Turn) -> httpx2.Response:
    seq = iter(range(10_000))
    output: list[dict[str, Any]] = []
    chunks = [
        sse(
            "response.created",
            {
                "type": "response.created",
                "sequence_number": next(seq),
                "response": _response("in_progress", [], None),
            },
        )
    ]
    if turn.text:
        message = {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
        }
        chunks.append(
            sse(
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "sequence_number": next(seq),
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": turn.text,
                    "logprobs": [],
                },
            )
        )
        output.append(message)
    for call_id, name, arguments in turn.calls:
        item = {
            "type": "function_call",
            "id": f"fc_{call_id}",
            "call_id": call_id,
            "name": name,
            "arguments": _raw(arguments),
            "status": "completed",
        }
        output.append(item)
    for index, item in enumerate(output):
        chunks.append(
            sse(
                "response.output_item.done",
                {
                    "type": "response.output_item.done",
                    "sequence_number": next(seq),
                    "output_index": index,
                    "item": item,
                },
            )
        )
    usage = {
        "input_tokens": turn.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": turn.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }
    chunks.append(
        sse(
            "response.completed",
            {
                "type": "response.completed",
                "sequence_number": next(seq),
                "response": _response("completed", output, usage),
            },
        )
    )
    return event_stream(chunks)


# --- Anthropic Messages API -----------------------------------------------------------


def anthropic_turn(turn: Turn) -> httpx2.Response:
    chunks = [
        sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "test-model",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": turn.input_tokens,
                        "output_tokens": 1,
                        "cache_read_input_tokens": 0,
                        "cache_creation_input_tokens": 0,
                    },
                },
            },
        )
    ]
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if turn.text:
        blocks.append(({"type": "text", "text": ""}, [{"type": "text_delta", "text": turn.text}]))
    for call_id, name, arguments in turn.calls:
        raw = _raw(arguments)
        half = len(raw) // 2
        pieces = [raw[:half], raw[half:]] if raw else []
        start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
        blocks.append((start, [{"type": "input_json_delta", "partial_json": p} for p in pieces]))
    for index, (start, deltas) in enumerate(blocks):
        chunks.append(
            sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        chunks += [
            sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        chunks.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    chunks.append(
        sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "tool_use" if turn.calls else "end_turn",
                    "stop_sequence": None,
                },
                "usage": {"output_tokens": turn.output_tokens},
            },
        )
    )
    chunks.append(sse("message_stop", {"type": "message_stop"}))
    return event_stream(chunks)


# --- Chat Completions (vLLM, Ollama) --------------------------------------------------


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "local-model",
        "choices": choices,
        "usage": usage,
    }
    return sse(None, body)


def chat_turn(turn: Turn) -> httpx2.Response:
    chunks = [_chunk({"role": "assistant", "content": ""})]
    if turn.text:
        chunks.append(_chunk({"content": turn.text}))
    for index, (call_id, name, arguments) in enumerate(turn.calls):
        raw = _raw(arguments)
        head = {"index": index, "id": call_id, "type": "function"}
        chunks.append(
            _chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": raw[:5]}}]})
        )
        chunks.append(
            _chunk({"tool_calls": [{"index": index, "function": {"arguments": raw[5:]}}]})
        )
    chunks.append(_chunk({}, "tool_calls" if turn.calls else "stop"))
    usage = {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }
    chunks.append(_chunk({}, usage=usage))
    chunks.append(sse(None, "[DONE]"))
    return event_stream(chunks)


# --- Providers over a script ----------------------------------------------------------

ENCODERS = {"openai": openai_turn, "anthropic": anthropic_turn, "vllm": chat_turn}


def scripted(vendor: Vendor, turns: list[Turn]) -> tuple[LLMProvider, Replay]:
    """A real adapter and SDK client whose server replies with ``turns``, in order."""
    replay = Replay([ENCODERS[vendor](turn) for turn in turns])
    if vendor == "openai":
        client = AsyncOpenAI(api_key="test-key", max_retries=0, http_client=replay.client())
        return OpenAIProvider(client, model="test-model"), replay
    if vendor == "anthropic":
        anthropic = AsyncAnthropic(api_key="test-key", max_retries=0, http_client=replay.client())
        return AnthropicProvider(anthropic, model="test-model"), replay
    client = AsyncOpenAI(
        api_key="unused",
        base_url="http://vllm.test/v1",
        max_retries=0,
        http_client=replay.client(),
    )
    return OpenAICompatibleProvider(client, model="local-model", name="vllm"), replay


def tool_results(vendor: Vendor, body: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """``(call_id, content, is_error)`` of every tool result in a request body.

    Only Anthropic carries ``is_error`` on the wire; for the others it is inferred as
    False (the model reads the error from the text).
    """
    found: list[tuple[str, str, bool]] = []
    if vendor == "openai":
        for item in body["input"]:
            if item.get("type") == "function_call_output":
                found.append((item["call_id"], item["output"], False))
    elif vendor == "anthropic":
        for message in body["messages"]:
            if message["role"] == "user" and isinstance(message["content"], list):
                for block in message["content"]:
                    if block["type"] == "tool_result":
                        found.append((block["tool_use_id"], block["content"], block["is_error"]))
    else:
        for message in body["messages"]:
            if message["role"] == "tool":
                found.append((message["tool_call_id"], message["content"], False))
    return found
