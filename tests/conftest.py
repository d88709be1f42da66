"""Shared fixtures: Sphinx's own testing fixtures with our test roots."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ("sphinx.testing.fixtures",)

ROOTS = Path(__file__).parent / "roots"


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """Where ``@pytest.mark.sphinx(testroot=...)`` finds ``test-<name>`` folders."""
    return ROOTS


@pytest.fixture
def copy_root(rootdir: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Copy ``test-<name>`` into a fresh temporary folder, so builds never write into roots."""
    counter = iter(range(1_000_000))

    def copy(name: str) -> Path:
        target = tmp_path / f"{name}-{next(counter)}"
        shutil.copytree(rootdir / f"test-{name}", target)
        return target

    return copy
