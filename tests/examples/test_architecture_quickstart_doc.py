"""Chapter 1.4 runs as written: its commands start the server, its curl prints its output.

The commands are read from the chapter's Markdown, not copied here, so editing the
chapter without keeping it working fails this test.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from chatbot.settings import Settings
from conftest import EXAMPLES, REPO, free_port, wait_for_port

CHAPTER = REPO / "docs" / "chapters" / "01-introduction.md"
SHOWN_OUTPUT = EXAMPLES / "frontend" / "test" / "fixtures" / "chat-stream.sse"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def quick_start_blocks() -> list[list[str]]:
    """The ``bash`` blocks of section 1.4, as lists of logical lines."""
    text = CHAPTER.read_text(encoding="utf-8")
    section = text[text.index("## 1.4 Quick Start Guide") :]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [block.replace("\\\n", " ").splitlines() for block in blocks]


def start_block() -> list[str]:
    return next(b for b in quick_start_blocks() if b and b[-1].strip() == "python -m chatbot")


def curl_line() -> str:
    return next(line for b in quick_start_blocks() for line in b if line.startswith("curl "))


def test_the_install_commands_point_at_the_backend_package() -> None:
    block = start_block()
    assert block[0] == "cd docs/examples/backend"
    backend = REPO / block[0].split()[1]
    project = tomllib.loads((backend / "pyproject.toml").read_text())["project"]
    assert project["name"] == "chatbot"
    assert any(line.strip() == "pip install -e ." for line in block)
    assert (backend / "chatbot" / "__main__.py").exists()


@pytest.fixture(scope="module")
def documented_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server started with the chapter's command, from a fresh directory."""
    command = shlex.split(start_block()[-1])
    assert command[0] == "python"
    workdir = tmp_path_factory.mktemp("chapter-quickstart")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env["CHATBOT_PORT"] = str(port)
    process = subprocess.Popen(
        [sys.executable, *command[1:]],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, timeout=60)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(15)


def test_the_documented_curl_prints_the_documented_stream(documented_server: str) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    command = curl_line().replace("localhost:8000", documented_server)
    assert " -N " in f" {command} "
    result = subprocess.run(
        ["bash", "-c", command.replace("curl ", "curl -s ", 1)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    shown = SHOWN_OUTPUT.read_text(encoding="utf-8")
    assert UUID.sub("00000000-0000-0000-0000-000000000000", result.stdout) == shown


def test_every_setting_the_chapter_names_exists() -> None:
    names = set(re.findall(r"CHATBOT_([A-Z_]+[A-Z])", CHAPTER.read_text(encoding="utf-8")))
    assert {"PORT", "DATABASE_URL", "LLM_PROVIDER", "CHAT_MODEL"} <= names
    for name in names:
        field, _, nested = name.lower().partition("__")
        assert field in Settings.model_fields, f"CHATBOT_{name} is not a setting"
        if nested:
            annotation = Settings.model_fields[field].annotation
            assert nested in annotation.model_fields, f"CHATBOT_{name} is not a setting"  # type: ignore[union-attr]


def test_the_chapter_names_the_real_default_database() -> None:
    default = Settings.model_fields["database_url"].default
    assert f"`{default}`" in CHAPTER.read_text(encoding="utf-8")
    assert Path(default.rsplit("/", 1)[-1]).name == "chatbot.db"
