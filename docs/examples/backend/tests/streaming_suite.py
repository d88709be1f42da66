"""Streaming on a real server: incremental SSE, resumption with Last-Event-ID, disconnects,
the WebSocket conversation with a ticket, and pooled connections during long streams.

``tests/examples/test_backend_streaming.py`` runs this suite with the examples' fixtures.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from conftest import free_port
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from wire import Event, parse_sse

from chatbot import app as app_module
from chatbot.app import create_app
from chatbot.deps import get_provider
from chatbot.providers import ChatMessage, LLMProvider, StreamEvent, ToolSpec
from chatbot.providers.fake import FakeProvider
from chatbot.settings import Settings
from chatbot.streaming.replay import BufferedEvent, MemoryReplayBuffer, RedisReplayBuffer

LONG = " ".join(f"w{n}" for n in range(40))  # 43 tokens, about 2 s at 50 ms a token
EXPECTED = "Hello! You said: " + LONG
ORIGIN = "https://chat.example.com"


class Counting(LLMProvider):
    """The fake provider, noting how many events it produced and whether it was closed."""

    name = "counting"

    def __init__(self, delay_s: float = 0.05) -> None:
        self.inner = FakeProvider(delay_s=delay_s)
        self.yielded = 0
        self.closed = threading.Event()

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        system: str,
        tools: Sequence[ToolSpec] = (),
        max_output_tokens: int = 1024,
        **_: Any,
    ) -> AsyncGenerator[StreamEvent]:
        try:
            async for event in self.inner.stream(
                messages, system=system, max_output_tokens=max_output_tokens
            ):
                self.yielded += 1
                yield event
        finally:
            self.closed.set()


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app under a real uvicorn on 127.0.0.1, so clients can really come and go."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def sse_events(lines: Iterator[str], stop_after: int | None = None) -> Iterator[Event]:
    """Parse a stream line by line, as a client must (the stream never "ends" early)."""
    block: list[str] = []
    seen = 0
    for line in lines:
        if line:
            block.append(line)
            continue
        events, _ = parse_sse("\n".join(block) + "\n\n")
        block = []
        for event in events:
            yield event
            seen += 1
            if stop_after is not None and seen >= stop_after:
                return


def text_of(events: list[Event]) -> str:
    return "".join(e.json()["delta"] for e in events if e.event == "token")


@pytest.fixture
def slow_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"fake_token_delay_s": 0.05})


# --- SSE read incrementally ---------------------------------------------------------------


def test_tokens_arrive_while_the_model_is_still_writing(slow_settings: Settings) -> None:
    with (
        serve(create_app(slow_settings)) as base,
        httpx2.Client(base_url=base, timeout=10) as http,
        http.stream("POST", "/v1/chat/stream", json={"message": LONG}) as response,
    ):
        assert response.headers["x-accel-buffering"] == "no"
        started = time.monotonic()
        arrivals: list[tuple[float, Event]] = []
        for event in sse_events(response.iter_lines()):
            arrivals.append((time.monotonic() - started, event))
    first_token = next(t for t, e in arrivals if e.event == "token")
    total = arrivals[-1][0]
    assert arrivals[-1][1].event == "done"
    assert text_of([e for _, e in arrivals]) == EXPECTED
    # 43 tokens at 50 ms: the first is on screen long before the last is written.
    assert first_token < 0.5 < 1.5 < total


# --- resumption ---------------------------------------------------------------------------


# [start:resume-test]
def test_a_client_that_lost_its_stream_resumes_from_last_event_id(
    slow_settings: Settings,
) -> None:
    """The first connection goes silent (a phone in a tunnel): the server does not know,
    keeps generating into the buffer, and a new connection picks up after the last id."""
    provider = Counting()
    app = create_app(slow_settings)
    app.dependency_overrides[get_provider] = lambda: provider
    with (
        serve(app) as base,
        httpx2.Client(base_url=base, timeout=10) as http,
        http.stream("POST", "/v1/chat/stream", json={"message": LONG}) as lost,
    ):
        # Keep a reference: a line iterator that is garbage-collected closes the connection.
        lines = lost.iter_lines()
        before = list(sse_events(lines, stop_after=4))  # meta and 3 tokens, then silence
        conversation = before[0].json()["conversation_id"]
        last_id = before[-1].id
        assert last_id == "4"
        # Reconnect while the first response is still open and unread.
        resumed = http.get(
            f"/v1/conversations/{conversation}/stream", headers={"Last-Event-ID": last_id}
        )
    after, _ = parse_sse(resumed.text)
    assert resumed.status_code == 200
    assert [e.id for e in after] == [str(n) for n in range(5, 5 + len(after))]  # no gap
    assert after[-1].event == "done"
    assert text_of(before) + text_of(after) == EXPECTED
    assert provider.yielded == 44  # 43 tokens and the finish: generation was never cut


# [end:resume-test]


def test_resuming_after_the_end_replays_and_unknown_turns_are_404(client: TestClient) -> None:
    original, _ = parse_sse(client.post("/v1/chat/stream", json={"message": "hi"}).text)
    conversation = original[0].json()["conversation_id"]
    replayed = client.get(f"/v1/conversations/{conversation}/stream")
    assert replayed.text.replace("retry: 3000\n", "") == "".join(
        f"event: {e.event}\ndata: {e.data}\nid: {e.id}\n\n" for e in original
    )
    tail, _ = parse_sse(
        client.get(f"/v1/conversations/{conversation}/stream", headers={"Last-Event-ID": "5"}).text
    )
    assert [e.event for e in tail] == ["done"]
    bad = client.get(f"/v1/conversations/{conversation}/stream", headers={"Last-Event-ID": "x"})
    assert bad.status_code == 422
    client.app.state.turns.replay = MemoryReplayBuffer()  # type: ignore[attr-defined]
    assert client.get(f"/v1/conversations/{conversation}/stream").status_code == 404


def test_a_client_that_disconnects_stops_generation_and_followers_are_told(
    slow_settings: Settings,
) -> None:
    provider = Counting()
    app = create_app(slow_settings)
    app.dependency_overrides[get_provider] = lambda: provider
    with serve(app) as base, httpx2.Client(base_url=base, timeout=10) as http:
        with http.stream("POST", "/v1/chat/stream", json={"message": LONG}) as response:
            seen = list(sse_events(response.iter_lines(), stop_after=3))
        # Leaving the block closed the connection: the server notices and cancels.
        assert provider.closed.wait(2), "provider stream still running after the client left"
        conversation = seen[0].json()["conversation_id"]
        follower = http.get(
            f"/v1/conversations/{conversation}/stream", headers={"Last-Event-ID": "3"}, timeout=5
        )
    events, _ = parse_sse(follower.text)
    assert events[-1].event == "error"
    assert events[-1].json() == {"code": "stream_cut_off", "retryable": True}
    assert provider.yielded < 20


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_redis_buffer_ids_are_the_sse_ids_and_followers_wake_up(
    redis_url: str, anyio_backend: str
) -> None:
    import redis.asyncio as redis

    client = redis.from_url(redis_url)
    buffer = RedisReplayBuffer(client, ttl_s=60, idle_timeout_s=2)
    try:
        await buffer.start("c1")
        await buffer.append("c1", BufferedEvent(1, "meta", "{}"))
        await buffer.append("c1", BufferedEvent(2, "token", '{"delta": "a"}'))

        async def late_writer() -> None:
            await asyncio.sleep(0.2)
            await buffer.append("c1", BufferedEvent(3, "done", "{}"))

        writer = asyncio.create_task(late_writer())
        read = [event.id async for event in buffer.read("c1", after=1)]
        await writer
        assert read == [2, 3]
        assert 0 < await client.ttl("chatbot:v1:replay:c1") <= 60
        await buffer.start("c1")  # the next turn starts from id 1 again
        await buffer.append("c1", BufferedEvent(1, "meta", "{}"))
        assert [e.id async for e in buffer.read("c1", after=0)][:1] == [1]
    finally:
        await client.aclose()


def test_another_replica_resumes_the_stream_through_redis(
    slow_settings: Settings, redis_url: str
) -> None:
    """Two app instances on one Redis and one database: the stream starts on the first,
    the client reconnects to the second, as it would behind a load balancer."""
    shared = slow_settings.model_copy(update={"redis_url": redis_url})
    first, second = create_app(shared), create_app(shared)
    with (
        serve(first) as pod_a,
        serve(second) as pod_b,
        httpx2.Client(timeout=10) as http,
        http.stream("POST", f"{pod_a}/v1/chat/stream", json={"message": LONG}) as lost,
    ):
        lines = lost.iter_lines()  # held, so the first connection stays open and silent
        before = list(sse_events(lines, stop_after=3))
        conversation = before[0].json()["conversation_id"]
        resumed = http.get(
            f"{pod_b}/v1/conversations/{conversation}/stream",
            headers={"Last-Event-ID": before[-1].id or ""},
        )
    after, _ = parse_sse(resumed.text)
    assert after[-1].event == "done"
    assert text_of(before) + text_of(after) == EXPECTED


# --- WebSocket ----------------------------------------------------------------------------


# [start:websocket-test]
def test_a_websocket_conversation_with_a_single_use_ticket(settings: Settings) -> None:
    security = settings.security.model_copy(update={"cors_origins": [ORIGIN]})
    app = create_app(settings.model_copy(update={"security": security}))
    with TestClient(app) as client:
        ticket = client.post("/v1/ws/tickets").json()["ticket"]
        url = f"/v1/ws/chat?ticket={ticket}"
        with client.websocket_connect(url, headers={"origin": ORIGIN}) as ws:
            replies = []
            for text in ("hello", "and again"):
                ws.send_json({"type": "message", "content": text})
                frames = []
                while not frames or frames[-1]["type"] != "done":
                    frames.append(ws.receive_json())
                replies.append("".join(f["delta"] for f in frames if f["type"] == "token"))
        assert replies == ["Hello! You said: hello", "Hello! You said: and again"]
        with (  # the same ticket a second time: refused at the handshake
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect(url, headers={"origin": ORIGIN}),
        ):
            pass
    assert refused.value.code == 1008


# [end:websocket-test]


def test_tickets_expire_and_need_an_authenticated_caller(settings: Settings) -> None:
    security = settings.security.model_copy(update={"cors_origins": [ORIGIN]})
    app = create_app(
        settings.model_copy(update={"security": security, "websocket_ticket_ttl_s": 0})
    )
    with TestClient(app) as client:
        issued = client.post("/v1/ws/tickets")
        assert issued.status_code == 201 and issued.json()["expires_in"] == 0
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect(
                f"/v1/ws/chat?ticket={issued.json()['ticket']}", headers={"origin": ORIGIN}
            ),
        ):
            pass
    closed = settings.model_copy(update={"host": "0.0.0.0"})  # no anonymous access
    with TestClient(create_app(closed)) as client:
        assert client.post("/v1/ws/tickets").status_code == 401


def test_redis_tickets_work_across_replicas_once(settings: Settings, redis_url: str) -> None:
    security = settings.security.model_copy(update={"cors_origins": [ORIGIN]})
    shared = settings.model_copy(update={"redis_url": redis_url, "security": security})
    with TestClient(create_app(shared)) as pod_a, TestClient(create_app(shared)) as pod_b:
        ticket = pod_a.post("/v1/ws/tickets").json()["ticket"]
        with pod_b.websocket_connect(
            f"/v1/ws/chat?ticket={ticket}", headers={"origin": ORIGIN}
        ) as ws:
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"
        with (
            pytest.raises(WebSocketDisconnect),
            pod_a.websocket_connect(f"/v1/ws/chat?ticket={ticket}", headers={"origin": ORIGIN}),
        ):
            pass


# --- connections during streams -----------------------------------------------------------


def test_a_stream_does_not_hold_a_pooled_connection(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One connection in the pool: a continued conversation (whose membership check
    queries the database) must still stream, save, and let other requests through."""
    monkeypatch.setattr(
        app_module,
        "engine_kwargs",
        lambda url, pool: {"pool_size": 1, "max_overflow": 0, "pool_timeout": 1},
    )
    with TestClient(create_app(settings)) as client:
        first, _ = parse_sse(client.post("/v1/chat/stream", json={"message": "one"}).text)
        conversation = first[0].json()["conversation_id"]
        again, _ = parse_sse(
            client.post(
                "/v1/chat/stream", json={"message": "two", "conversation_id": conversation}
            ).text
        )
        assert again[-1].event == "done"
        stored = client.get(f"/v1/conversations/{conversation}").json()
    assert [m["finish_reason"] for m in stored["messages"]] == [None, "stop", None, "stop"]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_finished_turn_expires_sooner_than_one_in_progress(anyio_backend: str) -> None:
    buffer = MemoryReplayBuffer(ttl_s=600, finished_ttl_s=0)
    await buffer.start("c")
    await buffer.append("c", BufferedEvent(1, "token", "{}"))
    assert await buffer.exists("c")  # in progress: kept while the model writes
    await buffer.append("c", BufferedEvent(2, "done", "{}"))
    await asyncio.sleep(0.01)
    assert not await buffer.exists("c")  # finished: gone after CHATBOT_STREAM_REPLAY_TTL_S
