"""Configuration from the environment: every value has a default that runs with no keys."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatbot.observability.settings import TelemetrySettings
from chatbot.security.settings import SecuritySettings

ProviderName = Literal["fake", "openai", "anthropic", "ollama", "vllm"]


# [start:settings]
class ModelServer(BaseModel):
    """An OpenAI-compatible server such as Ollama or vLLM."""

    base_url: str
    api_key: SecretStr = SecretStr("unused")  # the SDK insists on a key; Ollama ignores it


class DatabasePool(BaseModel):
    """The fleet facts the per-process pool is derived from (see ``chatbot.db.pool``)."""

    server_max_connections: int = 100  # PostgreSQL max_connections, or PgBouncer's pool
    reserved: int = 10  # superuser slots, migrations, admin shells, monitoring
    max_pods: int = 4  # the autoscaler's maximum
    surge_pods: int = 1  # extra pods a rolling update adds
    workers_per_pod: int = 1
    other_clients: int = 0  # Celery workers and cron jobs with pools of their own


class ApiVersion(BaseModel):
    """One major API version and its lifecycle dates."""

    name: str
    deprecated_at: datetime | None = None
    sunset_at: datetime | None = None
    successor: str | None = None


class Settings(BaseSettings):
    """Every setting reads ``CHATBOT_<NAME>``; nested ones read ``CHATBOT_<GROUP>__<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="CHATBOT_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite+aiosqlite:///./chatbot.db"
    auto_create_schema: bool = True  # False where Alembic owns the schema (production)
    redis_url: str | None = None
    redis_max_connections: int = 256  # per process; a resuming client holds one while it waits
    rate_limit_per_minute: int = 60

    llm_provider: ProviderName = "fake"
    llm_fallback_provider: ProviderName | None = None
    chat_model: str = ""
    system_prompt: str = "You are a concise, friendly assistant."
    max_output_tokens: int = 1024
    history_limit: int = 20
    llm_timeout_s: float = 60.0
    llm_max_retries: int = 2
    fake_token_delay_s: float = 0.02

    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    ollama: ModelServer = ModelServer(base_url="http://localhost:11434/v1")
    vllm: ModelServer = ModelServer(base_url="http://localhost:8001/v1")

    sse_retry_ms: int = 3000
    stream_replay_ttl_s: int = 60  # how long a finished turn can still be resumed
    websocket_idle_s: float = 300.0
    websocket_ticket_ttl_s: int = 30
    tenant_tokens_per_minute: int = 200_000  # LLM token budget; enforced when Redis is set
    db_pool: DatabasePool = DatabasePool()  # CHATBOT_DB_POOL__MAX_PODS=...
    celery_broker_url: str | None = None  # None: background jobs run in this process
    celery_result_backend: str | None = None
    api_versions: list[ApiVersion] = [ApiVersion(name="v1")]
    security: SecuritySettings = SecuritySettings()  # CHATBOT_SECURITY__<NAME>
    telemetry: TelemetrySettings = TelemetrySettings()  # CHATBOT_TELEMETRY__<NAME>

    @model_validator(mode="after")
    def _real_providers_need_a_model(self) -> Settings:
        uses_real = {self.llm_provider, self.llm_fallback_provider} - {"fake", None}
        if uses_real and not self.chat_model:
            msg = "set CHATBOT_CHAT_MODEL to a model id your provider serves"
            raise ValueError(msg)
        return self


@lru_cache
def get_settings() -> Settings:
    """One Settings per process; tests build their own and override the dependency."""
    return Settings()


# [end:settings]
