"""What the providers' servers send, byte for byte, and a transport that replays it.

The SDK clients under test are real; only their httpx2 transport is replaced, so the
SDKs' own request building, retries, SSE decoding and event parsing all run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2

Handler = Callable[[httpx2.Request], httpx2.Response]


def sse(event: str | None, data: Any) -> bytes:
    """One Server-Sent Event as a server writes it."""
    head = f"event: {event}\n" if event else ""
    body = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {body}\n\n".encode()


def event_stream(chunks: Iterable[bytes], status: int = 200) -> httpx2.Response:
    return httpx2.Response(
        status, headers={"content-type": "text/event-stream"}, content=b"".join(chunks)
    )


def json_error(status: int, body: dict[str, Any], **headers: str) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers={"retry-after-ms": "1", **headers})


@dataclass
class Replay:
    """Answers each request with the next canned response and keeps the requests."""

    responses: list[httpx2.Response]
    requests: list[httpx2.Request] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.responses.pop(0)

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self))

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


# --- OpenAI Responses API -------------------------------------------------------------


def _response(status: str, output: list[Any], usage: dict[str, Any] | None, **extra: Any) -> Any:
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
        **extra,
    }


def responses_usage(input_tokens: int, output_tokens: int, cached: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def responses_text(
    deltas: list[str], usage: dict[str, Any], *, incomplete: str | None = None
) -> list[bytes]:
    """A Responses stream that writes *deltas* and completes (or stops incomplete)."""
    seq = iter(range(1000))
    text = "".join(deltas)
    message = {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
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
    for delta in deltas:
        chunks.append(
            sse(
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "sequence_number": next(seq),
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": delta,
                    "logprobs": [],
                },
            )
        )
    chunks.append(
        sse(
            "response.output_item.done",
            {
                "type": "response.output_item.done",
                "sequence_number": next(seq),
                "output_index": 0,
                "item": message,
            },
        )
    )
    if incomplete:
        final = _response("incomplete", [message], usage, incomplete_details={"reason": incomplete})
        chunks.append(
            sse(
                "response.incomplete",
                {"type": "response.incomplete", "sequence_number": next(seq), "response": final},
            )
        )
    else:
        final = _response("completed", [message], usage)
        chunks.append(
            sse(
                "response.completed",
                {"type": "response.completed", "sequence_number": next(seq), "response": final},
            )
        )
    return chunks


def responses_tool_call(name: str, arguments: dict[str, Any], usage: dict[str, Any]) -> list[bytes]:
    item = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_abc",
        "name": name,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }
    args = json.dumps(arguments)
    return [
        sse(
            "response.created",
            {
                "type": "response.created",
                "sequence_number": 0,
                "response": _response("in_progress", [], None),
            },
        ),
        sse(
            "response.function_call_arguments.delta",
            {
                "type": "response.function_call_arguments.delta",
                "sequence_number": 1,
                "item_id": "fc_1",
                "output_index": 0,
                "delta": args[: len(args) // 2],
            },
        ),
        sse(
            "response.function_call_arguments.delta",
            {
                "type": "response.function_call_arguments.delta",
                "sequence_number": 2,
                "item_id": "fc_1",
                "output_index": 0,
                "delta": args[len(args) // 2 :],
            },
        ),
        sse(
            "response.output_item.done",
            {
                "type": "response.output_item.done",
                "sequence_number": 3,
                "output_index": 0,
                "item": item,
            },
        ),
        sse(
            "response.completed",
            {
                "type": "response.completed",
                "sequence_number": 4,
                "response": _response("completed", [item], usage),
            },
        ),
    ]


# --- OpenAI Chat Completions (Ollama, vLLM) -------------------------------------------


def chat_chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return sse(
        None,
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "local-model",
            "choices": choices,
            "usage": usage,
        },
    )


DONE = sse(None, "[DONE]")


# --- Anthropic Messages API -----------------------------------------------------------


def anthropic_message(
    blocks: list[dict[str, Any]], stop_reason: str, input_tokens: int, output_tokens: int
) -> list[bytes]:
    """A Messages stream; each block is ``{"text": [...]}`` or ``{"tool": name, "json": [...]}``."""
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
                        "input_tokens": input_tokens,
                        "output_tokens": 1,
                        "cache_read_input_tokens": 0,
                        "cache_creation_input_tokens": 0,
                    },
                },
            },
        ),
        sse("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(blocks):
        if "text" in block:
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in block["text"]]
        else:
            start = {"type": "tool_use", "id": f"toolu_{index}", "name": block["tool"], "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": j} for j in block["json"]]
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
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        )
    )
    chunks.append(sse("message_stop", {"type": "message_stop"}))
    return chunks


# --- Reading our own backend's stream -------------------------------------------------


@dataclass
class Event:
    """One parsed Server-Sent Event (comments collected separately)."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse(text: str) -> tuple[list[Event], list[str]]:
    """Events and comment lines of a complete ``text/event-stream`` body."""
    events: list[Event] = []
    comments: list[str] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        current, data = Event(), []
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                comments.append(value)
            elif name == "data":
                data.append(value)
            elif name == "event":
                current.event = value
            elif name == "id":
                current.id = value
            elif name == "retry":
                current.retry = int(value)
        if data:
            current.data = "\n".join(data)
            events.append(current)
    return events, comments
