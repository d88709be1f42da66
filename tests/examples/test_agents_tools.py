"""Tools, schemas and response parsers: calculator, validation, truncation, 8.3 parsing."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2
import pytest
from anthropic import AsyncAnthropic
from chatbot.agents.calculator import CalculatorTool, evaluate
from chatbot.agents.coordinator import AgentTool
from chatbot.agents.executor import ToolExecutor, truncate
from chatbot.agents.parsing import (
    MalformedCall,
    parse_anthropic_message,
    parse_arguments,
    parse_chat_completion,
    parse_responses_output,
)
from chatbot.agents.react import ReActAgent
from chatbot.agents.sandbox import CodeExecutorTool, CodeSandbox
from chatbot.agents.search import SearchTool
from chatbot.agents.sqlquery import DatabaseQueryTool, SQLiteReadOnly
from chatbot.agents.tools import ToolContext, ToolError, ToolRegistry
from chatbot.providers.base import ToolCall
from chatbot.providers.fake import FakeProvider
from chatbot.providers.tools import anthropic_tool, responses_tool
from chatbot.rag.retrieval import KeywordRetriever
from conftest import BACKEND
from openai import AsyncOpenAI
from wire import Replay

pytestmark = pytest.mark.anyio
CTX = ToolContext("acme", "u1", "run1", "c1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- calculator ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("49 * 12 * (1 - 0.15)", 499.8),
        ("2 ** 64", 18446744073709551616),
        ("sqrt(2) ** 2", 2.0000000000000004),
        ("-(3 - 5) % 3", 2),
        ("max(3, 9, 4) // 2", 4),
        ("round(pi, 4)", 3.1416),
        ("2^10", 1024),  # models write ^ for powers
    ],
)
def test_calculator_evaluates_arithmetic(expression: str, expected: float) -> None:
    assert evaluate(expression) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('id')", "Unsupported element"),
        ("().__class__.__bases__[0].__subclasses__()", "Unsupported element"),
        ("open('/etc/passwd')", "Unsupported element"),
        ("x + 1", "Unsupported element"),
        ("[1, 2] * 3", "Unsupported element"),
        ("'a' * 10", "Unsupported element"),
        ("1 / 0", "Division by zero"),
        ("sqrt(-1)", "Math error"),
        ("exp(10000)", "Math error"),
        ("1e308 * 10", "infinite"),
        ("(-8) ** (1 / 3)", "complex"),
        ("2 +", "Not an arithmetic expression"),
        ("min()", "Wrong number of arguments"),
        ("1" + " + 1" * 300, "longer than 500"),
    ],
)
def test_calculator_refuses_everything_else(expression: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        evaluate(expression)


@pytest.mark.parametrize("bomb", ["9 ** 9 ** 9", "10 ** 5000", "(10 ** 1000) * (10 ** 1000)"])
def test_calculator_refuses_huge_numbers_before_computing_them(bomb: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ToolError, match="too large"):
        evaluate(bomb)
    assert time.perf_counter() - started < 1  # minutes and gigabytes if computed


# --- the tool interface and the call handler ------------------------------------------


async def test_output_is_truncated_with_a_note() -> None:
    result = truncate("x" * 10_000, 8_000)
    assert result.truncated
    assert result.content.endswith(
        "[truncated: 2000 more characters; narrow the request to see them]"
    )


async def test_registry_refuses_duplicate_names() -> None:
    with pytest.raises(ValueError, match="two tools are called 'calculator'"):
        ToolRegistry.of([CalculatorTool(), CalculatorTool()])


async def test_malformed_calls_become_errors_not_exceptions() -> None:
    executor = ToolExecutor(ToolRegistry.of([CalculatorTool()]))
    calls = [
        MalformedCall("a", "calculator", '{"expression": "1+', "not valid JSON"),
        ToolCall("b", "calculator", {"expression": "1 + 1"}),
    ]
    outcomes = await executor.execute(calls, CTX)
    assert [o.result.is_error for o in outcomes if o.result] == [True, False]
    assert outcomes[0].result is not None
    assert outcomes[0].result.content.startswith(
        "The arguments for calculator were unusable (not valid JSON)."
    )


# --- function schemas (8.3) -----------------------------------------------------------


def all_tools() -> list[Any]:
    fake = ReActAgent("billing", FakeProvider(), instructions="x", description="Prices.")
    return [
        CalculatorTool(),
        SearchTool(KeywordRetriever(lambda tenant: [])),
        DatabaseQueryTool(SQLiteReadOnly(":memory:", frozenset({"orders"})), tables=["orders"]),
        CodeExecutorTool(CodeSandbox(isolation="process")),
        AgentTool(fake),
    ]


def _closed(schema: dict[str, Any]) -> None:
    if schema.get("type") == "object":
        assert schema["additionalProperties"] is False
        assert sorted(schema["required"]) == sorted(schema["properties"])
        for child in schema["properties"].values():
            _closed(child)


@pytest.mark.parametrize("tool", all_tools(), ids=lambda t: t.name)
def test_every_tool_schema_is_strict_mode_safe(tool: Any) -> None:
    spec = tool.spec()
    _closed(spec.parameters)
    assert "title" not in json.dumps(spec.parameters)
    assert 20 < len(spec.description) < 600  # the model's only documentation of the tool
    openai_shape = responses_tool(spec)
    assert openai_shape["type"] == "function" and openai_shape["strict"] is True
    assert openai_shape["parameters"] is spec.parameters
    anthropic_shape = anthropic_tool(spec)
    assert anthropic_shape["input_schema"] is spec.parameters


@pytest.mark.parametrize(
    ("vendor", "emit"), [("openai-responses", responses_tool), ("anthropic", anthropic_tool)]
)
def test_the_printed_function_schemas_are_what_is_sent(vendor: str, emit: Any) -> None:
    printed = BACKEND / "chatbot" / "agents" / "schemas" / f"calculator.{vendor}.json"
    assert json.loads(printed.read_text()) == emit(CalculatorTool().spec())


def test_the_docstring_is_sent_once_on_one_line() -> None:
    spec = CalculatorTool().spec()
    assert "description" not in spec.parameters
    assert "\n" not in spec.description and "  " not in spec.description


# --- response parsers (8.3), on the SDKs' own typed responses -------------------------


def _openai_response(output: list[dict[str, Any]], incomplete: str | None = None) -> Any:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": "test-model",
        "status": "incomplete" if incomplete else "completed",
        "output": output,
        "usage": None,
        "error": None,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def _function_call(call_id: str, arguments: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{call_id}",
        "call_id": call_id,
        "name": "calculator",
        "arguments": arguments,
        "status": status,
    }


async def test_parse_openai_responses_output() -> None:
    body = _openai_response(
        [
            _function_call("a", '{"expression": "1 + 1"}'),
            _function_call("b", '{"expression": "1 +'),
            _function_call("c", "[1, 2]"),
            _function_call("d", ""),
        ]
    )
    replay = Replay([httpx2.Response(200, json=body)])
    client = AsyncOpenAI(api_key="k", http_client=replay.client())
    response = await client.responses.create(model="test-model", input="hi")
    turn = parse_responses_output(response)
    assert turn.finish == "tool_calls"
    assert turn.calls[0] == ToolCall("a", "calculator", {"expression": "1 + 1"})
    assert isinstance(turn.calls[1], MalformedCall)
    assert turn.calls[1].error.startswith("not valid JSON")
    assert turn.calls[2] == MalformedCall(
        "c", "calculator", "[1, 2]", "expected a JSON object, got list"
    )
    assert turn.calls[3] == ToolCall("d", "calculator", {})


async def test_a_call_cut_off_by_the_output_limit_is_never_run() -> None:
    body = _openai_response(
        [_function_call("a", '{"expression": "1"}', status="incomplete")],
        incomplete="max_output_tokens",
    )
    replay = Replay([httpx2.Response(200, json=body)])
    client = AsyncOpenAI(api_key="k", http_client=replay.client())
    turn = parse_responses_output(await client.responses.create(model="m", input="hi"))
    assert turn.finish == "length"
    [malformed] = turn.calls
    assert isinstance(malformed, MalformedCall)  # parseable, but possibly missing fields


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('```json\n{"a": 1}\n```', {"a": 1}),  # fenced, as small local models do
        ('"{\\"a\\": 1}"', {"a": 1}),  # encoded twice
        ("{'a': 1}", "not valid JSON"),  # Python repr: reported, not guessed at
        ('{"a": 1,}', "not valid JSON"),
    ],
)
def test_argument_repairs_are_limited(raw: str, expected: Any) -> None:
    parsed = parse_arguments(raw)
    if isinstance(expected, dict):
        assert parsed == expected
    else:
        assert isinstance(parsed, str) and parsed.startswith(expected)


async def test_parse_chat_completion_from_a_local_server() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "local-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "x1",
                            "type": "function",
                            "function": {
                                "name": "calculator",
                                "arguments": '"{\\"expression\\": \\"2\\"}"',
                            },
                        },
                        {
                            "id": "x2",
                            "type": "function",
                            "function": {"name": "calculator", "arguments": "{expression: 2}"},
                        },
                    ],
                },
            }
        ],
    }
    replay = Replay([httpx2.Response(200, json=body)])
    client = AsyncOpenAI(api_key="k", base_url="http://vllm.test/v1", http_client=replay.client())
    completion = await client.chat.completions.create(model="local-model", messages=[])
    turn = parse_chat_completion(completion)
    assert turn.calls[0] == ToolCall("x1", "calculator", {"expression": "2"})
    assert isinstance(turn.calls[1], MalformedCall)


def _anthropic_message(content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "test-model",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


async def test_parse_anthropic_message() -> None:
    content = [
        {"type": "text", "text": "Let me compute."},
        {"type": "tool_use", "id": "t1", "name": "calculator", "input": {"expression": "3*3"}},
    ]
    replays = Replay(
        [
            httpx2.Response(200, json=_anthropic_message(content, "tool_use")),
            httpx2.Response(200, json=_anthropic_message(content, "max_tokens")),
        ]
    )
    client = AsyncAnthropic(api_key="k", http_client=replays.client())
    messages: Any = [{"role": "user", "content": "3*3?"}]
    done = parse_anthropic_message(
        await client.messages.create(model="m", max_tokens=64, messages=messages)
    )
    assert done.text == "Let me compute."
    assert done.calls == [ToolCall("t1", "calculator", {"expression": "3*3"})]
    assert done.finish == "tool_calls"
    cut = parse_anthropic_message(
        await client.messages.create(model="m", max_tokens=64, messages=messages)
    )
    assert cut.finish == "length"
    assert isinstance(cut.calls[0], MalformedCall)
