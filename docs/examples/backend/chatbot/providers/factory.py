"""Build the configured provider, with its SDK client, from the settings."""

from __future__ import annotations

from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from chatbot.providers.anthropic import AnthropicProvider
from chatbot.providers.base import LLMProvider
from chatbot.providers.fake import FakeProvider
from chatbot.providers.fallback import Breakers, FallbackProvider
from chatbot.providers.openai import OpenAIProvider
from chatbot.providers.openai_compatible import OpenAICompatibleProvider
from chatbot.settings import ProviderName, Settings


# [start:factory]
def build_provider(settings: Settings) -> LLMProvider:
    """The primary provider, wrapped in a fallback when one is configured."""
    primary = _single(settings.llm_provider, settings)
    if settings.llm_fallback_provider is None:
        return primary
    secondary = _single(settings.llm_fallback_provider, settings)
    # One set of breakers for the app's lifetime: every request shares their verdict.
    return FallbackProvider(primary, secondary, breakers=Breakers())


def _single(name: ProviderName, settings: Settings) -> LLMProvider:
    timeout, retries = settings.llm_timeout_s, settings.llm_max_retries
    match name:
        case "fake":
            return FakeProvider(delay_s=settings.fake_token_delay_s)
        case "openai":
            key = settings.openai_api_key
            client = AsyncOpenAI(
                api_key=key.get_secret_value() if key else None,  # None: read OPENAI_API_KEY
                timeout=timeout,
                max_retries=retries,
            )
            return OpenAIProvider(client, model=settings.chat_model)
        case "anthropic":
            key = settings.anthropic_api_key
            anthropic_client = AsyncAnthropic(
                api_key=key.get_secret_value() if key else None,
                timeout=timeout,
                max_retries=retries,
            )
            return AnthropicProvider(anthropic_client, model=settings.chat_model)
        case "ollama" | "vllm":
            server = settings.ollama if name == "ollama" else settings.vllm
            local = AsyncOpenAI(
                base_url=server.base_url,
                api_key=server.api_key.get_secret_value(),
                timeout=timeout,
                max_retries=retries,
            )
            return OpenAICompatibleProvider(local, model=settings.chat_model, name=name)


# [end:factory]
