"""The Quick Start, exactly as documented: one command starts the server, curl streams.

    python -m chatbot
    curl -N -X POST localhost:8000/v1/chat/stream \
         -H 'content-type: application/json' -d '{"message":"hello"}'

Only the port differs (a free one), so the test never collides with a running server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest
from conftest import free_port, wait_for_port
from wire import parse_sse


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("quickstart")  # a fresh directory: no .env, new SQLite
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env["CHATBOT_PORT"] = str(port)
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "chatbot"], cwd=workdir, env=env, stdout=log, stderr=log
    )
    try:
        wait_for_port(port, process, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(15)
        log.close()
    # uvicorn re-raises SIGTERM after a graceful shutdown, so -15 is a clean exit here.
    output = (workdir / "server.log").read_text()
    assert process.returncode in (0, -15), output
    assert "Application shutdown complete." in output
    assert (workdir / "chatbot.db").exists()


def test_streams_a_reply_from_the_fake_provider(server: str) -> None:
    with (
        httpx2.Client(base_url=server, timeout=10) as http,
        http.stream(
            "POST",
            "/v1/chat/stream",
            headers={"content-type": "application/json"},
            content=b'{"message":"hello"}',
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = list(response.iter_text())
    events, _ = parse_sse("".join(chunks))
    assert "".join(e.json()["delta"] for e in events if e.event == "token") == (
        "Hello! You said: hello"
    )
    assert events[-1].event == "done"
    assert len(chunks) > 1, "the reply arrived in one piece: it was not streamed"


def test_probes_answer(server: str) -> None:
    assert httpx2.get(f"{server}/healthz").json() == {"status": "ok"}
    assert httpx2.get(f"{server}/readyz").json() == {"database": "ok"}


def test_curl_as_documented(server: str) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(
        [
            curl,
            "-sN",
            "-X",
            "POST",
            f"{server}/v1/chat/stream",
            "-H",
            "content-type: application/json",
            "-d",
            '{"message":"hello"}',
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert 'data: {"delta": " hello"}' in result.stdout
