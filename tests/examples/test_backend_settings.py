"""The settings module: runs with no configuration, reads nested env vars, fails early."""

from __future__ import annotations

import pytest
from chatbot.settings import Settings, get_settings
from pydantic import ValidationError


def test_defaults_need_no_keys_and_no_servers() -> None:
    settings = Settings()
    assert settings.llm_provider == "fake"
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert settings.redis_url is None
    assert settings.port == 8000


def test_environment_overrides_including_nested_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_LLM_PROVIDER", "ollama")
    monkeypatch.setenv("CHATBOT_CHAT_MODEL", "example-model")
    monkeypatch.setenv("CHATBOT_OLLAMA__BASE_URL", "http://gpu-box:11434/v1")
    monkeypatch.setenv("CHATBOT_PORT", "9000")
    settings = Settings()
    assert settings.llm_provider == "ollama"
    assert settings.ollama.base_url == "http://gpu-box:11434/v1"
    assert settings.port == 9000


def test_real_provider_without_a_model_is_refused() -> None:
    with pytest.raises(ValidationError, match="CHATBOT_CHAT_MODEL"):
        Settings(llm_provider="anthropic")
    with pytest.raises(ValidationError, match="CHATBOT_CHAT_MODEL"):
        Settings(llm_fallback_provider="openai")


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(llm_provider="gpt")  # type: ignore[arg-type]


def test_secrets_stay_out_of_logs() -> None:
    settings = Settings(openai_api_key="sk-very-secret")  # type: ignore[arg-type]
    assert "sk-very-secret" not in repr(settings)
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-very-secret"


def test_get_settings_is_cached() -> None:
    get_settings.cache_clear()
    assert get_settings() is get_settings()
    get_settings.cache_clear()
