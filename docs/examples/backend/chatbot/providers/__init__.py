"""LLM providers behind one interface; :func:`build_provider` picks one from the settings."""

from chatbot.providers.base import (
    ChatMessage,
    Finish,
    JsonSchemaFormat,
    LLMProvider,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from chatbot.providers.factory import build_provider

__all__ = [
    "ChatMessage",
    "Finish",
    "JsonSchemaFormat",
    "LLMProvider",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderUnavailable",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "build_provider",
]
