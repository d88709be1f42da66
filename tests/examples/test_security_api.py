"""Run chapter 10.4's attack suite, which lives in the examples tree because the book
includes it (docs/examples/security/attack_suite.py)."""

from __future__ import annotations

import sys

import pytest
from conftest import EXAMPLES

sys.path.insert(0, str(EXAMPLES / "security"))
pytest.register_assert_rewrite("attack_suite")

from attack_suite import *  # noqa: E402, F403
