"""Appendix B's source: the committed settings schema matches the code and documents it all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chatbot import settings_export
from chatbot.settings import Settings


def leaves(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Environment variable name -> property, nested models expanded with ``__``."""
    prefix, delimiter = schema["x-env-prefix"], schema["x-env-nested-delimiter"]
    found: dict[str, dict[str, Any]] = {}

    def walk(properties: dict[str, Any], path: str) -> None:
        for name, prop in properties.items():
            ref = prop.get("$ref") or next(
                (a["$ref"] for a in prop.get("anyOf", []) if "$ref" in a), None
            )
            nested = schema["$defs"][ref.rsplit("/", 1)[1]] if ref else None
            if nested is not None and "properties" in nested:
                walk(nested["properties"], f"{path}{name.upper()}{delimiter}")
            else:
                found[f"{path}{name.upper()}"] = prop

    walk(schema["properties"], prefix)
    return found


def test_committed_schema_matches_the_code() -> None:
    committed = settings_export.SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == settings_export.render(), (
        "docs/examples/backend/settings.schema.json is stale: run "
        "`python -m chatbot.settings_export` and commit the result"
    )


def test_every_environment_variable_is_described() -> None:
    variables = leaves(json.loads(settings_export.render()))
    undocumented = [name for name, prop in variables.items() if not prop.get("description")]
    assert not undocumented, f"add a comment or a FALLBACK entry for {undocumented}"
    assert "CHATBOT_TELEMETRY__ENABLED" in variables
    assert "CHATBOT_SECURITY__JWT_ISSUER" in variables
    assert len(variables) > 50


def test_the_derived_names_are_the_ones_pydantic_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = leaves(json.loads(settings_export.render()))
    assert "CHATBOT_TELEMETRY__SAMPLE_RATIO" in variables
    monkeypatch.setenv("CHATBOT_TELEMETRY__SAMPLE_RATIO", "0.25")
    monkeypatch.setenv("CHATBOT_DB_POOL__MAX_PODS", "12")
    settings = Settings()
    assert settings.telemetry.sample_ratio == 0.25 and settings.db_pool.max_pods == 12


def test_secrets_have_no_default_value_in_the_reference() -> None:
    variables = leaves(json.loads(settings_export.render()))
    for name in ("CHATBOT_SECURITY__API_KEY_PEPPER", "CHATBOT_OLLAMA__API_KEY"):
        assert variables[name].get("writeOnly") is True
        assert variables[name].get("default") in (None, "", "**********")  # never the value
