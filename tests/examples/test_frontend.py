"""The Next.js sources: pinned versions, ``tsc --noEmit`` and the parser's unit tests.

Both need ``npm ci`` in docs/examples/frontend first; ``nox -s examples`` runs it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from conftest import FRONTEND

NODE_MODULES = FRONTEND / "node_modules"


def run_in_frontend(*command: str) -> subprocess.CompletedProcess[str]:
    if not (NODE_MODULES / ".bin" / "tsc").exists():
        pytest.skip("frontend dependencies not installed: run `npm ci` in docs/examples/frontend")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    return subprocess.run(command, cwd=FRONTEND, capture_output=True, text=True, timeout=180)


def test_versions_are_pinned_and_locked() -> None:
    package = json.loads((FRONTEND / "package.json").read_text())
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    pinned = {**package["dependencies"], **package["devDependencies"]}
    assert {"next", "react", "react-dom", "zustand", "typescript"} <= pinned.keys()
    for name, version in pinned.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}@{version} is a range, not a pin"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    assert lock["packages"][""]["dependencies"] == package["dependencies"]


def test_typescript_compiles_strict() -> None:
    config = json.loads((FRONTEND / "tsconfig.json").read_text())
    assert config["compilerOptions"]["strict"] is True
    # `next typegen && tsc --noEmit`: the generated route types are part of the check.
    result = run_in_frontend("npm", "run", "typecheck", "--silent")
    assert result.returncode == 0, result.stdout + result.stderr


def test_parser_and_client_unit_tests_pass() -> None:
    result = run_in_frontend("npm", "test", "--silent")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# pass [1-9]", result.stdout, re.MULTILINE), result.stdout
    assert "# fail 0" in result.stdout
