"""Chapter 3's tasks tests, which live in the examples tree because the book includes them
(docs/examples/backend/tests/tasks_suite.py)."""

from __future__ import annotations

import sys

import pytest
from conftest import BACKEND

sys.path.insert(0, str(BACKEND / "tests"))
pytest.register_assert_rewrite("tasks_suite")

from tasks_suite import *  # noqa: E402, F403
