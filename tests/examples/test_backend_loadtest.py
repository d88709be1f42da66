"""The load test: the locustfile loads, and a few seconds of it run against the backend.

Locust is imported only in subprocesses: it monkey-patches the standard library with
gevent on import, which must not happen inside this (asyncio) test process.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from conftest import EXAMPLES

LOADTEST = EXAMPLES / "loadtest"


@pytest.fixture(autouse=True)
def _needs_locust() -> None:
    if importlib.util.find_spec("locust") is None:
        pytest.skip("locust is not installed (it is in tests/examples/requirements.lock)")


def test_the_locustfile_defines_the_chat_user() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOADTEST / "locustfile.py"), "--list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "ChatUser" in listed.stdout


def test_a_short_headless_run_completes_turns_without_failures() -> None:
    sys.path.insert(0, str(LOADTEST))
    try:
        import run  # docs/examples/loadtest/run.py
    finally:
        sys.path.remove(str(LOADTEST))
    summary = run.run(users=4, spawn_rate=4, seconds=5, token_delay=0.01)
    turns = summary["stats"]["chat turn"]
    assert turns["count"] >= 4  # every user starts with a turn
    assert summary["stats"]["Aggregated"]["failures"] == 0
    first, full = summary["stats"]["time to first token"], summary["stats"]["full reply"]
    assert first["count"] == full["count"] == turns["count"]
    assert first["p50_ms"] <= full["p50_ms"]
