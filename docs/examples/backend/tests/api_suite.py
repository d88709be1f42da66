"""Core endpoints: the real OpenAI SDK behind the app, JSON completion, error handling,
conversation management, the token budget and API version lifecycle.

``tests/examples/test_backend_api.py`` runs this suite with the examples' fixtures.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from openai import AsyncOpenAI
from redis.asyncio import BlockingConnectionPool
from wire import Replay, event_stream, json_error, parse_sse, responses_text, responses_usage

from chatbot import app as app_module
from chatbot.app import create_app, effective_configuration
from chatbot.deps import get_provider
from chatbot.providers import ChatMessage, LLMProvider, StreamEvent, TextDelta, ToolSpec
from chatbot.providers.openai import OpenAIProvider
from chatbot.security.auth import Principal, authenticate
from chatbot.settings import ApiVersion, Settings


# [start:fixtures]
@pytest.fixture
def model_server() -> Replay:
    """The provider's HTTP API: each test queues the responses it should answer with."""
    return Replay([])


@pytest.fixture
def openai_client(
    settings: Settings, model_server: Replay, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The whole app with the real OpenAI SDK; only the SDK's HTTP transport is fake.

    Request building, SSE decoding, error mapping and our adapter all run for real, so
    an SDK upgrade that changes any of them fails here, not in production.
    """

    def provider(_: Settings) -> LLMProvider:
        sdk = AsyncOpenAI(api_key="test-key", max_retries=0, http_client=model_server.client())
        return OpenAIProvider(sdk, model="test-model")

    monkeypatch.setattr(app_module, "build_provider", provider)
    with TestClient(create_app(settings)) as client:
        yield client


# [end:fixtures]


def as_user(app: FastAPI) -> None:
    """Callers name themselves in ``X-Test-User``: several users without an IdP."""

    def from_header(request: Request) -> Principal:
        return Principal(request.headers.get("x-test-user", "alice"), frozenset({"chat"}), "jwt")

    app.dependency_overrides[authenticate] = from_header


def start(client: TestClient, message: str, user: str = "alice", **body: Any) -> str:
    response = client.post(
        "/v1/chat/stream", json={"message": message, **body}, headers={"x-test-user": user}
    )
    events, _ = parse_sse(response.text)
    assert events[-1].event == "done", events
    return str(events[0].json()["conversation_id"])


# --- through the real SDK -----------------------------------------------------------------


# [start:sdk-test]
def test_a_streamed_turn_through_the_real_openai_sdk(
    openai_client: TestClient, model_server: Replay
) -> None:
    model_server.responses.append(
        event_stream(responses_text(["Bon", "jour"], responses_usage(21, 2)))
    )
    response = openai_client.post("/v1/chat/stream", json={"message": "Say hello in French"})
    events, _ = parse_sse(response.text)

    assert [e.event for e in events] == ["meta", "token", "token", "done"]
    assert "".join(e.json()["delta"] for e in events[1:3]) == "Bonjour"
    assert events[-1].json()["usage"]["input_tokens"] == 21
    sent = model_server.body()  # what the SDK put on the wire
    assert sent["model"] == "test-model"
    assert sent["stream"] is True
    assert sent["input"][-1] == {"role": "user", "content": "Say hello in French"}


def test_a_provider_outage_becomes_503_with_retry_after(
    openai_client: TestClient, model_server: Replay
) -> None:
    overloaded = {"error": {"message": "overloaded", "type": "server_error", "code": None}}
    model_server.responses.append(json_error(503, overloaded, **{"retry-after-ms": "7000"}))
    response = openai_client.post("/v1/chat", json={"message": "hello"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json()["code"] == "provider_unavailable"
    assert response.json()["request_id"] == response.headers["x-request-id"]


# [end:sdk-test]


def test_a_request_the_provider_rejects_is_a_502(
    openai_client: TestClient, model_server: Replay
) -> None:
    bad = {"error": {"message": "bad", "type": "invalid_request_error", "code": None}}
    model_server.responses.append(json_error(400, bad))
    response = openai_client.post("/v1/chat", json={"message": "hello"})
    assert response.status_code == 502
    assert "retry-after" not in response.headers


# --- chat completion ----------------------------------------------------------------------


def test_the_completion_endpoint_answers_json_and_stores_both_messages(
    client: TestClient,
) -> None:
    reply = client.post("/v1/chat", json={"message": "hi there"}).json()
    assert reply["content"] == "Hello! You said: hi there"
    assert reply["finish_reason"] == "stop"
    assert reply["usage"]["output_tokens"] == 5
    again = client.post(
        "/v1/chat", json={"message": "more", "conversation_id": reply["conversation_id"]}
    ).json()
    assert again["message_id"] > reply["message_id"]
    stored = client.get(f"/v1/conversations/{reply['conversation_id']}").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"] * 2


# --- error handling -----------------------------------------------------------------------


class BreaksMidStream(LLMProvider):
    name = "breaks"

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
        **_: Any,
    ) -> AsyncGenerator[StreamEvent]:
        yield TextDelta("Half an")
        raise RuntimeError("a bug in our adapter")


def test_unhandled_errors_are_json_with_the_request_id(settings: Settings) -> None:
    security = settings.security.model_copy(update={"cors_origins": ["https://chat.example"]})
    app = create_app(settings.model_copy(update={"security": security}))

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail that must not leak")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(
            "/v1/boom", headers={"x-request-id": "gw-1234", "origin": "https://chat.example"}
        )
        assert response.status_code == 500
        assert response.json() == {"detail": "internal error", "request_id": "gw-1234"}
        # CORS wraps the error middleware: a browser can read the 500 and its request id.
        assert response.headers["access-control-allow-origin"] == "https://chat.example"
        forged = client.get("/healthz", headers={"x-request-id": "x" * 65})
        assert len(forged.headers["x-request-id"]) == 32  # replaced, not echoed
        stream = client.post("/v1/chat/stream", json={"message": "hi"})
        app.dependency_overrides[get_provider] = BreaksMidStream
        broken = client.post("/v1/chat/stream", json={"message": "hi"})
    assert stream.headers["x-request-id"]
    events, _ = parse_sse(broken.text)
    assert broken.status_code == 200  # already sent when the bug struck
    assert [e.event for e in events] == ["meta", "token"]  # no done, no error: a cut
    assert "secret" not in broken.text


# --- conversation management --------------------------------------------------------------


def test_the_list_pages_by_recent_activity_and_shows_only_your_own(settings: Settings) -> None:
    app = create_app(settings)
    as_user(app)
    with TestClient(app) as client:
        ids = [start(client, f"topic {n}") for n in range(5)]
        start(client, "not alice's", user="bob")
        start(client, "back to the first", conversation_id=ids[0])  # now the most recent
        pages, cursor = [], None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = client.get("/v1/conversations", params=params).json()
            pages.append([item["id"] for item in page["items"]])
            if (cursor := page["next_cursor"]) is None:
                break
        assert pages == [[ids[0], ids[4]], [ids[3], ids[2]], [ids[1]]]
        assert client.get("/v1/conversations", params={"cursor": "!!"}).status_code == 422
        bobs = client.get("/v1/conversations", headers={"x-test-user": "bob"}).json()
        assert [item["title"] for item in bobs["items"]] == ["not alice's"]


def test_only_the_owner_deletes_and_everything_of_it_goes(settings: Settings) -> None:
    app = create_app(settings)
    as_user(app)
    with TestClient(app) as client:
        conversation = start(client, "to be deleted")
        url = f"/v1/conversations/{conversation}"
        assert client.delete(url, headers={"x-test-user": "bob"}).status_code == 404
        assert client.delete(url).status_code == 204
        assert client.get(url).status_code == 404
        assert client.get("/v1/conversations").json()["items"] == []
        deadline = time.monotonic() + 2  # the replay buffer forgets it via the event bus
        while client.get(f"{url}/stream").status_code != 404:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert client.delete(url).status_code == 404


def test_the_first_page_is_cached_in_redis_until_a_turn_starts(
    settings: Settings, redis_url: str
) -> None:
    app = create_app(settings.model_copy(update={"redis_url": redis_url}))
    as_user(app)
    inspect = redis.Redis.from_url(redis_url)
    with TestClient(app) as client:
        pool = client.app.state.redis.connection_pool  # type: ignore[attr-defined]
        assert isinstance(pool, BlockingConnectionPool)  # waits at the limit, never raises
        assert pool.max_connections == 256
        start(client, "first")
        assert len(client.get("/v1/conversations").json()["items"]) == 1
        key = "chatbot:v1:convs:alice"
        assert 0 < inspect.ttl(key) <= 17  # 15 s with jitter
        start(client, "second")
        assert not inspect.exists(key)  # the new turn dropped it
        assert len(client.get("/v1/conversations").json()["items"]) == 2
    inspect.close()


# --- token budget and versions ------------------------------------------------------------


def test_the_token_budget_refunds_unused_tokens_and_refuses_when_spent(
    settings: Settings, redis_url: str
) -> None:
    budgeted = settings.model_copy(
        update={"redis_url": redis_url, "tenant_tokens_per_minute": 10_000}
    )
    inspect = redis.Redis.from_url(redis_url)
    app = create_app(budgeted)
    as_user(app)
    with TestClient(app) as client:
        start(client, "hello")
        left = float(inspect.hget("rl:{alice}:tokens", "tokens") or 0)
        # About 3,000 were reserved; without the refund about 7,000 would be left.
        assert 9_900 < left <= 10_000
        inspect.hset("rl:{alice}:tokens", "tokens", 100)  # someone spent the rest
        refused = client.post("/v1/chat/stream", json={"message": "again"})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 10
        other = client.post("/v1/chat", json={"message": "hi"}, headers={"x-test-user": "bob"})
        assert other.status_code == 200  # another tenant's bucket
    inspect.close()


def test_version_lifecycle_comes_from_configuration(settings: Settings) -> None:
    now = datetime.now(UTC)
    v1 = ApiVersion(
        name="v1", deprecated_at=now - timedelta(days=30), sunset_at=now + timedelta(days=90)
    )
    with TestClient(create_app(settings.model_copy(update={"api_versions": [v1]}))) as client:
        response = client.post("/v1/chat", json={"message": "hi"})
        assert response.status_code == 200
        assert response.headers["deprecation"].startswith("@")
        assert client.get("/v2/conversations").status_code == 404
    retired = v1.model_copy(update={"sunset_at": now - timedelta(days=1)})
    with TestClient(create_app(settings.model_copy(update={"api_versions": [retired]}))) as c:
        assert c.post("/v1/chat", json={"message": "hi"}).status_code == 410
        assert c.get("/healthz").status_code == 200


def test_start_up_logs_what_it_talks_to_without_passwords(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = settings.model_copy(
        update={
            "database_url": "postgresql+asyncpg://chat:pw123@db.internal:5432/chat",
            "redis_url": "redis://:s3cret@cache.internal:6380/0",
        }
    )
    described = effective_configuration(secret)
    assert described["database"] == "postgresql+asyncpg://chat:***@db.internal:5432/chat"
    assert described["redis"] == "cache.internal:6380"
    assert described["broker"] == "in-process"
    assert "pw123" not in str(described) and "s3cret" not in str(described)
    with caplog.at_level("INFO", logger="chatbot.app"), TestClient(create_app(settings)):
        pass
    assert "effective configuration" in caplog.text
    assert "sqlite+aiosqlite" in caplog.text
