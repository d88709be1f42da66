"""Write the settings' JSON Schema to ``settings.schema.json`` for the configuration reference.

The book's Appendix B is rendered from this file at build time, so the documentation
builds without importing the backend. Descriptions come from ``Field(description=...)``
where a setting has one, otherwise from the comment on or just above its line in the
source: the comments reviewers already keep up to date. A test fails when the committed
file no longer matches the code; ``python -m chatbot.settings_export`` regenerates it.
"""

from __future__ import annotations

import inspect
import io
import json
import tokenize
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chatbot.settings import Settings

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "settings.schema.json"

# Settings whose source has no comment; everything else documents itself.
FALLBACK = {
    "Settings.host": "Interface uvicorn binds to; 0.0.0.0 in a container.",
    "Settings.port": "Port uvicorn listens on.",
    "Settings.database_url": "SQLAlchemy URL; postgresql+asyncpg://... in production.",
    "Settings.redis_url": "Redis for limits, caches, replay and events; unset: in-process.",
    "Settings.rate_limit_per_minute": "Requests per minute per principal.",
    "Settings.llm_provider": "Primary model provider.",
    "Settings.llm_fallback_provider": "Provider tried when the primary fails before streaming.",
    "Settings.chat_model": "Model id sent to the provider; required for real providers.",
    "Settings.system_prompt": "System prompt of every turn.",
    "Settings.max_output_tokens": "Output cap per turn.",
    "Settings.history_limit": "Earlier messages sent with each turn.",
    "Settings.llm_timeout_s": "Provider SDK timeout per request, seconds.",
    "Settings.llm_max_retries": "Provider SDK retries before a ProviderError.",
    "Settings.fake_token_delay_s": "Pause between the fake provider's words, seconds.",
    "Settings.openai_api_key": "OpenAI key; unset: the SDK reads OPENAI_API_KEY.",
    "Settings.anthropic_api_key": "Anthropic key; unset: the SDK reads ANTHROPIC_API_KEY.",
    "Settings.ollama": "Ollama's OpenAI-compatible endpoint.",
    "Settings.vllm": "vLLM's OpenAI-compatible endpoint.",
    "Settings.sse_retry_ms": "SSE retry: hint sent to clients, milliseconds.",
    "Settings.websocket_idle_s": "Idle WebSocket connections close after this many seconds.",
    "Settings.websocket_ticket_ttl_s": "Lifetime of a one-time WebSocket ticket, seconds.",
    "Settings.celery_result_backend": "Celery result backend URL.",
    "Settings.api_versions": "API versions with deprecation and sunset dates (JSON list).",
    "DatabasePool.workers_per_pod": "Uvicorn worker processes per pod, each with its own pool.",
    "ModelServer.base_url": "Base URL of the OpenAI-compatible API, ending in /v1.",
    "ApiVersion.name": "Version name, e.g. v1.",
    "ApiVersion.deprecated_at": "When the Deprecation header starts.",
    "ApiVersion.sunset_at": "When requests get 410 Gone.",
    "ApiVersion.successor": "Version named in the Link header.",
    "SecuritySettings.jwt_audience": "Expected aud claim.",
    "SecuritySettings.jwks_url": "The identity provider's JWKS endpoint.",
    "SecuritySettings.jwt_algorithms": "Accepted JWT signature algorithms.",
    "SecuritySettings.jwt_leeway_s": "Clock skew tolerated on exp and nbf, seconds.",
    "SecuritySettings.cors_origins": "Browser origins allowed to call the API.",
    "SecuritySettings.link_allowlist": "Domains links in answers may point to.",
    "SecuritySettings.moderation_enabled": "Run the moderation endpoint on input.",
}


def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """``name -> comment`` for each field line: trailing comment, else the block above."""
    source = inspect.getsource(model)
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("# ").strip()
    found: dict[str, str] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        name = line.strip().split(":", 1)[0]
        if (
            not line.startswith("    ")
            or line.startswith("     ")
            or name not in model.model_fields
        ):
            continue
        if number in comments:
            found[name] = comments[number]
            continue
        above: list[str] = []
        row = number - 1
        while row in comments and source.splitlines()[row - 1].strip().startswith("#"):
            above.insert(0, comments[row])
            row -= 1
        if above:
            found[name] = " ".join(above)
    return found


def describe(schema: dict[str, Any], model: type[BaseModel], title: str) -> None:
    """Fill in missing property descriptions of one model's schema, in place."""
    comments = field_comments(model)
    for name, prop in schema.get("properties", {}).items():
        prop.setdefault("description", comments.get(name) or FALLBACK.get(f"{title}.{name}", ""))


def render() -> str:
    schema = Settings.model_json_schema()
    describe(schema, Settings, "Settings")
    for name, definition in schema.get("$defs", {}).items():
        model = _nested_model(name)
        if model is not None:
            describe(definition, model, name)
    config = Settings.model_config
    schema["x-env-prefix"] = config.get("env_prefix", "")
    schema["x-env-nested-delimiter"] = config.get("env_nested_delimiter", "__")
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _nested_model(name: str) -> type[BaseModel] | None:
    for field in Settings.model_fields.values():
        for candidate in (field.annotation, *getattr(field.annotation, "__args__", ())):
            if (
                isinstance(candidate, type)
                and issubclass(candidate, BaseModel)
                and candidate.__name__ == name
            ):
                return candidate
    return None


def main() -> None:
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()
