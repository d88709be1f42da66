"""The backend's real output for the frontend's tests: resumption, storage, socket frames.

The frontend's turn test resumes from ``chat-resume.sse``, its store test reconciles
against ``conversation.json`` and its WebSocket client test replays
``chat-socket.jsonl``; all are written here from the running app, so a change on either
side fails a test. Regenerate with ``UPDATE_FIXTURES=1``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from chatbot.app import create_app
from chatbot.settings import Settings
from conftest import FRONTEND
from fastapi.testclient import TestClient

FIXTURES = FRONTEND / "test" / "fixtures"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The zone suffix is kept as the backend wrote it (SQLite: none), since the client parses it.
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?")
ORIGIN = "http://localhost:3000"


def check_fixture(name: str, emitted: str) -> None:
    path = FIXTURES / name
    if os.environ.get("UPDATE_FIXTURES") == "1":
        path.write_text(emitted)
    if not path.exists():
        pytest.fail(f"{path} is missing: rerun with UPDATE_FIXTURES=1")
    assert path.read_text() == emitted, f"{path} is stale: rerun with UPDATE_FIXTURES=1"


def normalise(text: str) -> str:
    text = UUID.sub("00000000-0000-0000-0000-000000000000", text)
    return TIMESTAMP.sub("2026-01-01T00:00:00", text)


def test_stored_conversation_fixture(client: TestClient) -> None:
    first = client.post("/v1/chat/stream", json={"message": "hello"})
    conversation_id = UUID.search(first.text)
    assert conversation_id is not None
    second = {"message": "and again", "conversation_id": conversation_id.group()}
    assert "event: done" in client.post("/v1/chat/stream", json=second).text
    stored = client.get(f"/v1/conversations/{conversation_id.group()}")
    assert stored.status_code == 200
    body = stored.json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"] * 2
    check_fixture("conversation.json", normalise(json.dumps(body, indent=2)) + "\n")


def test_resumed_stream_fixture(client: TestClient) -> None:
    """What GET .../stream sends a client whose POST stream broke after event 3."""
    first = client.post("/v1/chat/stream", json={"message": "hello"})
    conversation_id = UUID.search(first.text)
    assert conversation_id is not None
    resumed = client.get(
        f"/v1/conversations/{conversation_id.group()}/stream", headers={"Last-Event-ID": "3"}
    )
    assert resumed.status_code == 200
    assert resumed.text.startswith("event: token")
    check_fixture("chat-resume.sse", normalise(resumed.text))


def test_socket_frames_fixture(settings: Settings) -> None:
    security = settings.security.model_copy(update={"cors_origins": [ORIGIN]})
    app = create_app(settings.model_copy(update={"security": security}))
    frames: list[dict[str, object]] = []
    with TestClient(app) as client:
        ticket = client.post("/v1/ws/tickets").json()["ticket"]
        with client.websocket_connect(
            f"/v1/ws/chat?ticket={ticket}", headers={"origin": ORIGIN}
        ) as ws:
            ws.send_json({"type": "message", "content": "hello"})
            while not frames or frames[-1]["type"] != "done":
                frames.append(ws.receive_json())
            ws.send_json({"type": "ping"})
            frames.append(ws.receive_json())
    assert [f["type"] for f in frames][-2:] == ["done", "pong"]
    check_fixture("chat-socket.jsonl", "".join(json.dumps(f) + "\n" for f in frames))


def test_fixtures_are_read_by_the_frontend_tests() -> None:
    """A fixture nobody reads protects nothing."""
    tests = "".join(p.read_text() for p in Path(FRONTEND / "test").glob("*.test.ts*"))
    for name in ("conversation.json", "chat-resume.sse", "chat-socket.jsonl"):
        assert name in tests, name
