"""API architecture on the real app: versioning middleware, WebSocket chat, OpenAPI contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from chatbot.api.websocket import ticket_user
from chatbot.app import create_app
from chatbot.architecture import openapi_export
from chatbot.architecture.versioning import ApiVersionMiddleware, VersionPolicy
from chatbot.settings import ApiVersion, Settings
from fastapi import FastAPI, Request, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from wire import parse_sse

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DEPRECATED = datetime(2026, 9, 1, tzinfo=UTC)
SUNSET = datetime(2027, 3, 1, tzinfo=UTC)
ORIGIN = "https://chat.example.com"


# --- versioning middleware ---------------------------------------------------------------


def versioned_app(settings: Settings, now: datetime) -> FastAPI:
    # The app's own middleware knows both versions; this outer one adds the lifecycle.
    both = [ApiVersion(name="v1"), ApiVersion(name="v2")]
    app = create_app(settings.model_copy(update={"api_versions": both}))
    app.add_middleware(
        ApiVersionMiddleware,
        versions=[
            VersionPolicy("v1", deprecated_at=DEPRECATED, sunset_at=SUNSET, successor="/v2"),
            VersionPolicy("v2"),
        ],
        clock=lambda: now,
    )
    return app


def test_deprecated_version_streams_with_lifecycle_headers(settings: Settings) -> None:
    with TestClient(versioned_app(settings, NOW)) as client:
        response = client.post("/v1/chat/stream", json={"message": "hello"})
    assert response.status_code == 200
    assert response.headers["deprecation"] == f"@{int(DEPRECATED.timestamp())}"
    assert parsedate_to_datetime(response.headers["sunset"]) == SUNSET
    assert response.headers["link"] == '</v2>; rel="successor-version"'
    events, _ = parse_sse(response.text)  # the body went through untouched
    assert [e.event for e in events][-1] == "done"
    assert "".join(e.json()["delta"] for e in events if e.event == "token") == (
        "Hello! You said: hello"
    )


def test_unversioned_and_current_paths_pass_through_unchanged(settings: Settings) -> None:
    with TestClient(versioned_app(settings, NOW)) as client:
        health = client.get("/healthz")
    assert health.json() == {"status": "ok"}
    assert "deprecation" not in health.headers


def test_unknown_and_retired_versions_are_refused(settings: Settings) -> None:
    with TestClient(versioned_app(settings, NOW)) as client:
        unknown = client.post("/v3/chat/stream", json={"message": "hi"})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "unknown API version", "supported": ["v1", "v2"]}

    after_sunset = SUNSET + timedelta(seconds=1)
    with TestClient(versioned_app(settings, after_sunset)) as client:
        gone = client.post("/v1/chat/stream", json={"message": "hi"})
    assert gone.status_code == 410
    assert gone.json()["supported"] == ["v2"]
    assert gone.headers["link"] == '</v2>; rel="successor-version"'


def test_the_handler_sees_which_version_was_called(settings: Settings) -> None:
    app = versioned_app(settings, NOW)

    @app.get("/v2/whoami")
    async def whoami(request: Request) -> dict[str, str]:
        return {"version": request.state.api_version}

    with TestClient(app) as client:
        assert client.get("/v2/whoami").json() == {"version": "v2"}


# --- WebSocket chat ----------------------------------------------------------------------


async def cookie_auth(websocket: WebSocket) -> str | None:
    return "user-1" if websocket.cookies.get("session") == "valid" else None


def socket_app(settings: Settings, *, idle_s: float = 30.0) -> FastAPI:
    """The app's own WebSocket route, with cookie authentication instead of tickets."""
    security = settings.security.model_copy(update={"cors_origins": [ORIGIN]})
    app = create_app(settings.model_copy(update={"security": security, "websocket_idle_s": idle_s}))
    app.dependency_overrides[ticket_user] = cookie_auth
    return app


@pytest.fixture
def ws_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(socket_app(settings), cookies={"session": "valid"}) as client:
        yield client


def frames_until(ws: Any, last: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != last:
        frames.append(ws.receive_json())
    return frames


def test_a_turn_streams_tokens_then_done_with_sequence_numbers(ws_client: TestClient) -> None:
    with ws_client.websocket_connect("/v1/ws/chat", headers={"origin": ORIGIN}) as ws:
        ws.send_json({"type": "message", "content": "hello"})
        frames = frames_until(ws, "done")
        ws.send_json({"type": "ping"})
        pong = ws.receive_json()
    tokens = [f["delta"] for f in frames if f["type"] == "token"]
    assert "".join(tokens) == "Hello! You said: hello"
    assert frames[-1]["finish_reason"] == "stop"
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert pong == {"type": "pong", "seq": len(frames) + 1}


def test_the_second_turn_carries_the_first_as_history(settings: Settings) -> None:
    seen: list[int] = []
    app = socket_app(settings)
    with TestClient(app, cookies={"session": "valid"}) as client:
        original = app.state.provider.stream

        def spy(messages: Any, **kwargs: Any) -> Any:
            seen.append(len(messages))
            return original(messages, **kwargs)

        app.state.provider.stream = spy
        with client.websocket_connect("/v1/ws/chat", headers={"origin": ORIGIN}) as ws:
            for text in ("one", "two"):
                ws.send_json({"type": "message", "content": text})
                frames_until(ws, "done")
    assert seen == [1, 3]  # user; then user, assistant, user


@pytest.mark.parametrize(
    ("origin", "cookies"),
    [("https://evil.example", {"session": "valid"}), (ORIGIN, {}), (None, {"session": "valid"})],
)
def test_handshake_refuses_foreign_origins_and_anonymous_users(
    settings: Settings, origin: str | None, cookies: dict[str, str]
) -> None:
    headers = {"origin": origin} if origin else {}
    with (
        TestClient(socket_app(settings), cookies=cookies) as client,
        pytest.raises(WebSocketDisconnect) as caught,
        client.websocket_connect("/v1/ws/chat", headers=headers),
    ):
        pass
    assert caught.value.code == 1008


def test_cancel_stops_generation_mid_reply(settings: Settings) -> None:
    slow = settings.model_copy(update={"fake_token_delay_s": 0.05})
    long_message = " ".join(f"w{n}" for n in range(60))
    with (
        TestClient(socket_app(slow), cookies={"session": "valid"}) as client,
        client.websocket_connect("/v1/ws/chat", headers={"origin": ORIGIN}) as ws,
    ):
        ws.send_json({"type": "message", "content": long_message})
        assert ws.receive_json()["type"] == "token"
        ws.send_json({"type": "message", "content": "meanwhile"})
        ws.send_json({"type": "cancel"})
        frames = frames_until(ws, "cancelled")
        ws.send_json({"type": "message", "content": "again"})
        after = frames_until(ws, "done")
    busy = [f for f in frames if f["type"] == "error"]
    assert busy and busy[0]["code"] == "busy"
    assert len([f for f in frames if f["type"] == "token"]) < 20  # of 63
    assert "".join(f["delta"] for f in after if f["type"] == "token").endswith("again")


def test_malformed_frames_get_an_error_not_a_disconnect(ws_client: TestClient) -> None:
    with ws_client.websocket_connect("/v1/ws/chat", headers={"origin": ORIGIN}) as ws:
        ws.send_text("not json")
        first = ws.receive_json()
        ws.send_json({"type": "message", "content": ""})
        second = ws.receive_json()
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"
    assert (first["type"], first["code"]) == ("error", "bad_frame")
    assert second["code"] == "bad_frame"


def test_idle_connections_are_closed(settings: Settings) -> None:
    with (
        TestClient(socket_app(settings, idle_s=0.2), cookies={"session": "valid"}) as client,
        client.websocket_connect("/v1/ws/chat", headers={"origin": ORIGIN}) as ws,
        pytest.raises(WebSocketDisconnect) as caught,
    ):
        ws.receive_json()
    assert caught.value.code == 1000


# --- OpenAPI contract --------------------------------------------------------------------


def test_committed_openapi_matches_the_code() -> None:
    rendered = openapi_export.render()
    committed = openapi_export.OPENAPI_PATH.read_text(encoding="utf-8")
    assert committed == rendered, (
        "docs/examples/backend/openapi.json is stale: run "
        "`python -m chatbot.architecture.openapi_export` and commit the result"
    )


def test_openapi_describes_the_chat_contract() -> None:
    schema = json.loads(openapi_export.OPENAPI_PATH.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.1")
    stream = schema["paths"]["/v1/chat/stream"]["post"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    request = schema["components"]["schemas"]["ChatRequest"]
    assert request["required"] == ["message"]
    assert request["properties"]["message"]["maxLength"] == 8000
