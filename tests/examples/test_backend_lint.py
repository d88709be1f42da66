"""The backend's code is what readers copy: it must pass ruff and ``mypy --strict``.

Both use the backend's own configuration (docs/examples/backend/pyproject.toml), so the
types are checked against the real SDKs' annotations: an API that changed breaks here.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import BACKEND


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=BACKEND, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("command", [("check", "."), ("format", "--check", ".")])
def test_ruff(command: tuple[str, ...]) -> None:
    result = run("ruff", *command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
