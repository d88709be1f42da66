"""Escape attempts against the code sandbox; each must fail, within bounded time.

Each attack runs twice where the host allows it: with the audit hook (the default) and
with the hook switched off, to show that the kernel layers (namespaces, uid, rlimits)
stop it on their own. A third configuration, ``isolation="process"``, is the fallback
without namespaces; there only the hook and the rlimits stand in the way.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from chatbot.agents.sandbox import (
    CodeExecutorTool,
    CodeSandbox,
    SandboxLimits,
    SandboxResult,
    namespaces_available,
)
from chatbot.agents.tools import ToolContext, ToolError

pytestmark = pytest.mark.anyio
# The host is shared: CPU-bound programs may get half a core. Wall clocks are generous.
LIMITS = SandboxLimits(cpu_s=1, wall_s=20.0)
needs_namespaces = pytest.mark.skipif(
    not namespaces_available(), reason="needs root and a working `unshare --net --mount --pid`"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(
    params=[
        pytest.param(("namespaces", True), marks=needs_namespaces, id="namespaces+hook"),
        pytest.param(("namespaces", False), marks=needs_namespaces, id="namespaces-only"),
        pytest.param(("process", True), id="process+hook"),
    ]
)
def sandbox(request: pytest.FixtureRequest) -> CodeSandbox:
    isolation, hook = request.param
    return CodeSandbox(LIMITS, isolation=isolation, audit_hook=hook)


async def run(sandbox: CodeSandbox, code: str, within_s: float = 25) -> SandboxResult:
    started = time.monotonic()
    result = await sandbox.run(code)
    assert time.monotonic() - started < within_s
    return result


async def test_ordinary_code_runs(sandbox: CodeSandbox) -> None:
    result = await run(
        sandbox, "import json, statistics\nprint(json.dumps(statistics.mean([1, 2, 6])))"
    )
    assert result.exit_code == 0
    assert result.stdout == "3\n"


async def test_it_can_use_its_own_directory(sandbox: CodeSandbox) -> None:
    code = "open('notes.txt', 'w').write('kept')\nprint(open('notes.txt').read())"
    result = await run(sandbox, code)
    assert result.stdout == "kept\n"


async def test_reading_etc_passwd_fails(sandbox: CodeSandbox) -> None:
    result = await run(sandbox, "print(open('/etc/passwd').read())")
    assert result.exit_code == 1
    assert "root:" not in result.stdout
    assert ("FileNotFoundError" in result.stderr) or ("PermissionError" in result.stderr)


async def test_reading_a_file_outside_the_sandbox_fails(
    sandbox: CodeSandbox, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.env"
    secret.write_text("OPENAI_API_KEY=sk-live-do-not-leak\n")
    secret.chmod(0o644)  # world-readable: only the sandbox stands in the way
    result = await run(sandbox, f"print(open({str(secret)!r}).read())")
    assert result.exit_code == 1
    assert "sk-live" not in result.stdout + result.stderr


async def test_listing_the_filesystem_shows_nothing_of_the_host(sandbox: CodeSandbox) -> None:
    result = await run(sandbox, "import os\nprint(sorted(os.listdir('/')))")
    if result.exit_code == 0:  # namespaces without the hook: the empty root is visible
        assert "etc" not in result.stdout and "home" not in result.stdout
    else:
        assert "PermissionError" in result.stderr


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on the host's loopback that records whatever reaches it."""
    received: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                received.append(connection.recv(1024))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join(2)
    server.close()


async def test_no_network_not_even_the_hosts_loopback(
    sandbox: CodeSandbox, listener: tuple[int, list[bytes]]
) -> None:
    port, received = listener
    code = (
        "import socket\n"
        f"s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "s.sendall(b'exfiltrated')\n"
        "print('sent')\n"
    )
    result = await run(sandbox, code)
    assert result.exit_code == 1
    assert "sent" not in result.stdout
    assert any(
        error in result.stderr
        for error in ("Network is unreachable", "Connection refused", "PermissionError")
    )
    time.sleep(0.3)
    assert received == []


async def test_a_fork_bomb_goes_nowhere(sandbox: CodeSandbox) -> None:
    code = "import os\nwhile True:\n    os.fork()\n"
    result = await run(sandbox, code)
    assert result.exit_code == 1
    assert ("BlockingIOError" in result.stderr) or ("PermissionError" in result.stderr)


async def test_subprocesses_are_refused(sandbox: CodeSandbox) -> None:
    result = await run(sandbox, "import subprocess\nprint(subprocess.run(['id']).returncode)")
    assert result.exit_code == 1


async def test_an_infinite_loop_is_killed_by_the_cpu_limit(sandbox: CodeSandbox) -> None:
    result = await run(sandbox, "while True:\n    pass\n")
    assert result.signal == "SIGKILL"
    assert not result.timed_out  # the kernel's RLIMIT_CPU, not our wall clock


async def test_sleeping_forever_is_killed_by_the_wall_clock() -> None:
    sandbox = CodeSandbox(SandboxLimits(wall_s=1.0))
    result = await run(sandbox, "import time\ntime.sleep(3600)\n", within_s=10)
    assert result.timed_out
    assert result.signal == "SIGKILL"


async def test_allocating_4_gb_fails(sandbox: CodeSandbox) -> None:
    result = await run(sandbox, "block = bytearray(4 * 2**30)\nprint(len(block))")
    assert result.exit_code == 1
    assert "MemoryError" in result.stderr


async def test_a_huge_file_is_cut_by_the_file_size_limit(sandbox: CodeSandbox) -> None:
    result = await run(sandbox, "open('big.bin', 'wb').write(b'x' * 50 * 2**20)")
    assert result.exit_code != 0
    assert "File too large" in result.stderr or result.signal == "SIGXFSZ"


async def test_a_print_flood_is_cut_at_the_output_cap(sandbox: CodeSandbox) -> None:
    result = await run(sandbox, "while True:\n    print('x' * 1000)\n")
    assert result.output_truncated
    assert len(result.stdout) <= LIMITS.output_bytes


@needs_namespaces
async def test_inside_the_namespace_it_is_nobody_and_alone() -> None:
    sandbox = CodeSandbox(LIMITS, isolation="namespaces", audit_hook=False)
    code = "import os\nprint(os.getuid(), os.getgid(), os.getpid())\nprint(sorted(os.listdir('/')))"
    result = await run(sandbox, code)
    uid_line, listing = result.stdout.splitlines()
    assert uid_line == "65534 65534 2"  # unprivileged, and PID 2 of its own process tree
    assert "etc" not in listing and "proc" not in listing


@needs_namespaces
async def test_threads_cannot_start_under_nproc_1() -> None:
    sandbox = CodeSandbox(LIMITS, isolation="namespaces", audit_hook=False)
    code = "import threading\nt = threading.Thread(target=print)\nt.start()"
    result = await run(sandbox, code)
    assert "can't start new thread" in result.stderr


async def test_the_tool_reports_failures_to_the_model() -> None:
    tool = CodeExecutorTool(CodeSandbox(LIMITS))
    ctx = ToolContext("acme", "u1", "r1", "c1")
    assert await tool.run(tool.validate({"code": "print(6 * 7)"}), ctx) == "42\n"
    with pytest.raises(ToolError, match="Exit code 1") as caught:
        await tool.run(tool.validate({"code": "1 / 0"}), ctx)
    assert "ZeroDivisionError" in str(caught.value)
