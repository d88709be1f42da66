"""The installed SDKs still have the shape chapter 5 teaches.

Each assertion names a parameter or a behaviour the adapters rely on, read from the
installed package itself, so an SDK upgrade that moves one fails here first.
"""

from __future__ import annotations

import inspect

import anthropic
import openai
import pytest
from anthropic.resources.messages import AsyncMessages
from openai.resources.chat.completions import AsyncCompletions
from openai.resources.responses import AsyncResponses
from openai.resources.responses.input_tokens import AsyncInputTokens


def params(function: object) -> set[str]:
    return set(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_tested_major_versions() -> None:
    assert openai.__version__.split(".")[0] == "3"
    assert anthropic.__version__.split(".")[0] == "2"


def test_responses_create_takes_what_the_openai_adapter_sends() -> None:
    used = {
        "model",
        "instructions",
        "input",
        "tools",
        "text",
        "reasoning",
        "prompt_cache_key",
        "safety_identifier",
        "max_output_tokens",
        "store",
        "stream",
    }
    assert used <= params(AsyncResponses.create)
    assert {"model", "instructions", "input", "tools"} <= params(AsyncInputTokens.count)


def test_chat_completions_takes_what_the_compatible_adapter_sends() -> None:
    used = {
        "model",
        "messages",
        "tools",
        "response_format",
        "max_completion_tokens",
        "stream",
        "stream_options",
        "extra_body",
    }
    assert used <= params(AsyncCompletions.create)


def test_messages_stream_takes_what_the_anthropic_adapter_sends() -> None:
    used = {
        "model",
        "max_tokens",
        "system",
        "messages",
        "tools",
        "output_config",
        "cache_control",
        "metadata",
    }
    assert used <= params(AsyncMessages.stream)
    assert {"model", "system", "messages", "tools"} <= params(AsyncMessages.count_tokens)


@pytest.mark.parametrize("removed", ["temperature", "top_p", "top_k"])
def test_anthropic_sampling_parameters_are_gone(removed: str) -> None:
    """SDK 1.0 removed them from the typed signature; API 2026-10-21 answers 400."""
    assert removed not in params(AsyncMessages.create)
    assert removed not in params(AsyncMessages.stream)


def test_anthropic_overloaded_is_a_server_error() -> None:
    """529 maps to ProviderUnavailable through the ``status >= 500`` branch."""
    assert issubclass(anthropic.OverloadedError, anthropic.InternalServerError)
    assert issubclass(anthropic.RateLimitError, anthropic.APIStatusError)
