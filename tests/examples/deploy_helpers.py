"""What the deployment files must agree with: the backend's real routes and settings."""

from __future__ import annotations

from functools import cache
from typing import Any

from chatbot.app import create_app
from chatbot.settings import Settings


@cache
def get_routes() -> frozenset[str]:
    """Paths the backend answers to GET: probes must point at one of these."""
    paths = create_app(Settings()).openapi()["paths"]
    return frozenset(path for path, operations in paths.items() if "get" in operations)


def is_setting(env_name: str) -> bool:
    """True if ``CHATBOT_X`` or ``CHATBOT_GROUP__X`` names a real Settings field.

    Settings ignores unknown variables (``extra="ignore"``), so a typo in a manifest
    would otherwise be silently dropped.
    """
    if not env_name.startswith("CHATBOT_"):
        return False
    group, _, name = env_name.removeprefix("CHATBOT_").lower().partition("__")
    field = Settings.model_fields.get(group)
    if field is None:
        return False
    if not name:
        return True
    model: Any = field.annotation
    return name in getattr(model, "model_fields", {})


def default_port() -> int:
    return Settings.model_fields["port"].default  # type: ignore[no-any-return]
