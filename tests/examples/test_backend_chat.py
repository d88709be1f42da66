"""The SSE chat endpoint, the app factory's lifespan and the health probes."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncGenerator, Iterator, Sequence

import fastapi.routing
import httpx2
import pytest
import uvicorn
from chatbot.api.chat import ChatRequest, chat_stream
from chatbot.app import create_app, turn_services
from chatbot.db.session import create_schema, make_engine, make_sessionmaker
from chatbot.deps import get_provider
from chatbot.providers import (
    ChatMessage,
    LLMProvider,
    ProviderUnavailable,
    StreamEvent,
    ToolSpec,
)
from chatbot.providers.fake import FakeProvider
from chatbot.security.auth import Principal
from chatbot.settings import Settings
from chatbot.streaming.budget import Reservation
from conftest import FRONTEND, free_port
from fastapi.testclient import TestClient
from wire import Event, parse_sse

FIXTURES = FRONTEND / "test" / "fixtures"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NIL_UUID = "00000000-0000-0000-0000-000000000000"


class Recording(LLMProvider):
    """Wraps a provider and notes what it was asked and whether its stream was closed."""

    name = "recording"

    def __init__(self, inner: LLMProvider, *, pause_before_first_s: float = 0.0) -> None:
        self.inner = inner
        self.pause = pause_before_first_s
        self.histories: list[list[ChatMessage]] = []
        self.yielded = 0
        self.closed = threading.Event()

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
    ) -> AsyncGenerator[StreamEvent]:
        self.histories.append(list(messages))
        try:
            await asyncio.sleep(self.pause)
            async for event in self.inner.stream(
                messages, system=system, tools=tools, max_output_tokens=max_output_tokens
            ):
                self.yielded += 1
                yield event
        finally:
            self.closed.set()


class Failing(LLMProvider):
    name = "failing"

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
    ) -> AsyncGenerator[StreamEvent]:
        raise ProviderUnavailable("upstream 503", provider=self.name, status_code=503)
        yield  # pragma: no cover - makes this an async generator


def chat(client: TestClient, message: str, **extra: object) -> tuple[list[Event], list[str]]:
    response = client.post("/v1/chat/stream", json={"message": message, **extra})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    return parse_sse(response.text)


def test_stream_has_meta_tokens_and_done_with_increasing_ids(client: TestClient) -> None:
    events, _ = chat(client, "hello")
    assert [e.event for e in events] == ["meta", "token", "token", "token", "token", "done"]
    assert "".join(e.json()["delta"] for e in events if e.event == "token") == (
        "Hello! You said: hello"
    )
    assert [e.id for e in events] == [str(n) for n in range(1, 7)]
    assert events[0].retry == 3000
    uuid.UUID(events[0].json()["conversation_id"])
    done = events[-1].json()
    assert done["finish_reason"] == "stop"
    assert done["usage"]["output_tokens"] == 4


def test_conversation_is_stored_and_history_sent_on_the_next_turn(
    client: TestClient, settings: Settings
) -> None:
    recording = Recording(FakeProvider())
    client.app.dependency_overrides[get_provider] = lambda: recording  # type: ignore[attr-defined]
    events, _ = chat(client, "first")
    conversation_id = events[0].json()["conversation_id"]
    chat(client, "second", conversation_id=conversation_id)

    assert [m.content for m in recording.histories[1]] == [
        "first",
        "Hello! You said: first",
        "second",
    ]
    stored = client.get(f"/v1/conversations/{conversation_id}").json()
    assert stored["title"] == "first"
    assert [(m["role"], m["finish_reason"]) for m in stored["messages"]] == [
        ("user", None),
        ("assistant", "stop"),
        ("user", None),
        ("assistant", "stop"),
    ]


def test_provider_failure_becomes_an_error_event_and_is_recorded(client: TestClient) -> None:
    client.app.dependency_overrides[get_provider] = Failing  # type: ignore[attr-defined]
    events, _ = chat(client, "hello")
    assert [e.event for e in events] == ["meta", "error"]
    assert events[1].json() == {"code": "provider_unavailable", "retryable": True}
    conversation_id = events[0].json()["conversation_id"]
    stored = client.get(f"/v1/conversations/{conversation_id}").json()
    assert stored["messages"][-1]["finish_reason"] == "error"


def test_keepalive_comments_while_the_model_is_silent(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FastAPI documents this private constant as the knob tests turn (15 s in production).
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.05)
    slow = Recording(FakeProvider(), pause_before_first_s=0.4)
    client.app.dependency_overrides[get_provider] = lambda: slow  # type: ignore[attr-defined]
    events, comments = chat(client, "hello")
    assert "ping" in comments
    assert events[-1].event == "done"


def test_invalid_requests_are_rejected_before_streaming(client: TestClient) -> None:
    assert client.post("/v1/chat/stream", json={"message": ""}).status_code == 422
    assert client.post("/v1/chat/stream", json={}).status_code == 422
    assert client.get(f"/v1/conversations/{uuid.uuid4()}").status_code == 404


def test_rate_limit_answers_429_with_retry_after(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 2})
    with TestClient(create_app(limited)) as client:
        chat(client, "one")
        chat(client, "two")
        response = client.post("/v1/chat/stream", json={"message": "three"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"


def test_health_probes(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"database": "ok"}
    client.app.state.engine = make_engine("sqlite+aiosqlite:////nonexistent/dir/x.db")  # type: ignore[attr-defined]
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}
    assert client.get("/healthz").status_code == 200  # liveness ignores dependencies


def test_lifespan_opens_then_closes_the_provider(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[bool] = []

    class Closing(FakeProvider):
        async def aclose(self) -> None:
            closed.append(True)

    monkeypatch.setattr("chatbot.app.build_provider", lambda _settings: Closing())
    app = create_app(settings)
    with TestClient(app):
        assert isinstance(app.state.provider, Closing)
        assert closed == []
    assert closed == [True]


class HeldStreams(LLMProvider):
    """Keeps every stream it hands out, so a test can see whether it was closed."""

    name = "held"

    def __init__(self) -> None:
        self.streams: list[AsyncGenerator[StreamEvent]] = []

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
    ) -> AsyncGenerator[StreamEvent]:
        events = FakeProvider().stream(messages, system=system, max_output_tokens=max_output_tokens)
        self.streams.append(events)
        return events


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_closing_the_response_closes_the_provider_stream_at_once(
    settings: Settings, anyio_backend: str
) -> None:
    """FastAPI closes the endpoint's generator when the client goes; the provider's
    stream (an HTTP response, for a real SDK) must close with it, not at garbage collection.
    """
    engine = make_engine(settings.database_url)
    await create_schema(engine)
    provider = HeldStreams()
    events = chat_stream(
        body=ChatRequest(message="one two three"),
        conversation_id=uuid.uuid4(),
        user=Principal("user-1", frozenset({"chat"}), "anonymous"),
        budget=Reservation(None, None),
        settings=settings,
        provider=provider,
        sessions=make_sessionmaker(engine),
        turns=turn_services(settings, None),
    )
    assert [(await anext(events)).event for _ in range(2)] == ["meta", "token"]  # type: ignore[call-overload]
    await events.aclose()  # type: ignore[attr-defined]
    assert provider.streams[0].ag_frame is None, "provider stream left suspended"  # type: ignore[attr-defined]
    await engine.dispose()


@pytest.fixture
def live_server(settings: Settings) -> Iterator[tuple[str, Recording]]:
    """The app under a real uvicorn in a thread, so a client can really disconnect."""
    recording = Recording(FakeProvider(delay_s=0.05))
    app = create_app(settings)
    app.dependency_overrides[get_provider] = lambda: recording
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", recording
    finally:
        server.should_exit = True
        thread.join(10)


def test_client_disconnect_stops_generation_and_keeps_the_partial_reply(
    live_server: tuple[str, Recording],
) -> None:
    base, recording = live_server
    long_message = " ".join(f"w{n}" for n in range(60))  # 63 tokens, about 3 s
    with (
        httpx2.Client(base_url=base, timeout=10) as http,
        http.stream("POST", "/v1/chat/stream", json={"message": long_message}) as response,
    ):
        lines = response.iter_lines()
        conversation_id = ""
        for line in lines:
            if line.startswith("data:") and "conversation_id" in line:
                conversation_id = UUID.findall(line)[0]
            if line == "event: token":
                break
    assert recording.closed.wait(2), "provider stream still running after the client left"
    assert recording.yielded < 20

    deadline = time.monotonic() + 5
    with httpx2.Client(base_url=base) as http:
        while True:
            messages = http.get(f"/v1/conversations/{conversation_id}").json()["messages"]
            if len(messages) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert messages[1]["finish_reason"] == "cancelled"
    assert "Hello! You said: w0".startswith(messages[1]["content"].split(" w1")[0])
    assert len(messages[1]["content"]) < len("Hello! You said: " + long_message)


@pytest.mark.parametrize(
    ("fixture", "provider"),
    [("chat-stream.sse", None), ("chat-error.sse", Failing)],
)
def test_frontend_fixture_is_what_the_backend_emits(
    client: TestClient, fixture: str, provider: type[LLMProvider] | None
) -> None:
    """The frontend's parser test reads these files; regenerate with UPDATE_FIXTURES=1."""
    if provider is not None:
        client.app.dependency_overrides[get_provider] = provider  # type: ignore[attr-defined]
    response = client.post("/v1/chat/stream", json={"message": "hello"})
    emitted = UUID.sub(NIL_UUID, response.text).encode()
    path = FIXTURES / fixture
    if os.environ.get("UPDATE_FIXTURES") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(emitted)
    assert path.read_bytes() == emitted, (
        f"{path} is stale: rerun with UPDATE_FIXTURES=1 and run the frontend tests"
    )
