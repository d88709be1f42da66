"""Chapter 3's api tests, which live in the examples tree because the book includes them
(docs/examples/backend/tests/api_suite.py)."""

from __future__ import annotations

import sys

import pytest
from conftest import BACKEND

sys.path.insert(0, str(BACKEND / "tests"))
pytest.register_assert_rewrite("api_suite")

from api_suite import *  # noqa: E402, F403
