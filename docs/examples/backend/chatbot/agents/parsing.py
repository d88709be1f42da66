"""Tool calls out of complete (non-streamed) responses, malformed arguments included.

The streaming adapters in :mod:`chatbot.providers` serve the chat path. Workers,
evaluations and batch jobs call the non-streaming endpoints instead, and get the SDK's
typed response objects; these parsers turn them into the same :class:`ToolCall` the
agent loop consumes, or into a :class:`MalformedCall` that goes back to the model as an
error instead of crashing the loop.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from anthropic.types import Message
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from chatbot.providers.base import FinishReason, ToolCall


# [start:parsed]
@dataclass(frozen=True, slots=True)
class MalformedCall:
    """The model tried to call a tool, but its arguments cannot be used as they are."""

    id: str
    name: str
    raw: str
    error: str


AnyCall = ToolCall | MalformedCall


@dataclass(frozen=True, slots=True)
class ParsedTurn:
    """One assistant turn: its text, its tool calls, and why it ended."""

    text: str
    calls: list[AnyCall] = field(default_factory=list)
    finish: FinishReason = "stop"


# [end:parsed]


# [start:arguments]
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def parse_arguments(raw: str) -> dict[str, Any] | str:
    """A JSON object from a model's argument string, or the reason it is not one.

    Two repairs only, both for failures that small self-hosted models make and that
    lose no information: a Markdown fence around the JSON, and the object encoded twice
    (a JSON *string* containing JSON). Anything else (trailing commas, single quotes,
    truncation) is reported, not guessed at: a "repaired" call that runs with the wrong
    arguments is worse than one the model is asked to send again.
    """
    text = raw.strip()
    if fenced := _FENCE.match(text):
        text = fenced.group(1)
    if not text:
        return {}  # a tool without parameters is often called with ""
    try:
        value = json.loads(text)
        if isinstance(value, str):
            value = json.loads(value)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg} at character {exc.pos}"
    if not isinstance(value, dict):
        return f"expected a JSON object, got {type(value).__name__}"
    return value


def _call(call_id: str, name: str, raw: str, *, truncated: bool) -> AnyCall:
    if truncated:  # cut off by the output cap: even parseable JSON may be missing fields
        return MalformedCall(call_id, name, raw, "the response hit its output limit mid-call")
    arguments = parse_arguments(raw)
    if isinstance(arguments, str):
        return MalformedCall(call_id, name, raw, arguments)
    return ToolCall(call_id, name, arguments)


# [end:arguments]


# [start:parsers]
def parse_responses_output(response: Response) -> ParsedTurn:
    """OpenAI Responses API: ``function_call`` items carry ``arguments`` as a JSON string."""
    incomplete = response.incomplete_details.reason if response.incomplete_details else None
    calls: list[AnyCall] = []
    for item in response.output:
        if item.type == "function_call":
            truncated = item.status == "incomplete" or incomplete == "max_output_tokens"
            calls.append(_call(item.call_id, item.name, item.arguments, truncated=truncated))
    finish: FinishReason = "tool_calls" if calls else "stop"
    if incomplete == "max_output_tokens":
        finish = "length"
    elif incomplete == "content_filter":
        finish = "content_filter"
    return ParsedTurn(response.output_text, calls, finish)


def parse_chat_completion(completion: ChatCompletion) -> ParsedTurn:
    """Chat Completions (vLLM, Ollama): ``message.tool_calls[].function.arguments``."""
    choice = completion.choices[0]
    truncated = choice.finish_reason == "length"
    calls: list[AnyCall] = []
    for tool_call in choice.message.tool_calls or ():
        if tool_call.type != "function":
            continue  # custom (free-text) tools are not used by the reference
        function = tool_call.function
        calls.append(_call(tool_call.id, function.name, function.arguments, truncated=truncated))
    finish: FinishReason = "tool_calls" if calls else "stop"
    if truncated:
        finish = "length"
    elif choice.finish_reason == "content_filter":
        finish = "content_filter"
    return ParsedTurn(choice.message.content or "", calls, finish)


def parse_anthropic_message(message: Message) -> ParsedTurn:
    """Anthropic Messages API: ``tool_use`` blocks carry ``input`` already as an object."""
    truncated = message.stop_reason in ("max_tokens", "model_context_window_exceeded")
    text: list[str] = []
    calls: list[AnyCall] = []
    for block in message.content:
        if block.type == "text":
            text.append(block.text)
        elif block.type == "tool_use":
            raw = json.dumps(block.input)
            if truncated:
                calls.append(MalformedCall(block.id, block.name, raw, "output limit hit mid-call"))
            elif not isinstance(block.input, dict):
                calls.append(MalformedCall(block.id, block.name, raw, "input is not an object"))
            else:
                calls.append(ToolCall(block.id, block.name, dict(block.input)))
    finish: FinishReason = "tool_calls" if calls else "stop"
    if truncated:
        finish = "length"
    elif message.stop_reason == "refusal":
        finish = "content_filter"
    return ParsedTurn("".join(text), calls, finish)


# [end:parsers]
