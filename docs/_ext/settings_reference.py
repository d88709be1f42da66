"""``settings-reference``: every environment variable of the backend, from its schema dump.

Reads ``settings.schema.json`` (``python -m chatbot.settings_export``): the pydantic
``Settings`` model's JSON Schema plus the ``x-env-prefix`` and ``x-env-nested-delimiter``
it was configured with. Nested models become ``PREFIX_GROUP__NAME`` variables, one
table per group, so the reference lists exactly the names pydantic-settings reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from openapi_reference import code, table, type_of, words
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import ExtensionMetadata


def default_text(prop: dict[str, Any]) -> str:
    if prop.get("writeOnly"):
        return "(secret)"
    if "default" not in prop:
        return "(required)"
    return json.dumps(prop["default"])


def variables(schema: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Group title -> [(environment variable, property)], nested models expanded."""
    prefix = schema.get("x-env-prefix", "")
    delimiter = schema.get("x-env-nested-delimiter", "__")
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {"General": []}
    for name, prop in schema.get("properties", {}).items():
        refs = [prop.get("$ref"), *(a.get("$ref") for a in prop.get("anyOf", []))]
        ref = next((r for r in refs if r), None)
        nested = schema["$defs"].get(ref.rsplit("/", 1)[1], {}) if ref else {}
        if "properties" in nested and prop.get("type") != "array":
            title = f"{prefix}{name.upper()}{delimiter}*"
            groups[title] = [
                (f"{prefix}{name.upper()}{delimiter}{field.upper()}", sub)
                for field, sub in nested["properties"].items()
            ]
        else:
            groups["General"].append((f"{prefix}{name.upper()}", prop))
    return groups


class SettingsReference(SphinxDirective):
    """``settings-reference <path>``: tables of variables, types, defaults, descriptions."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        relative, absolute = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(relative)
        try:
            schema = json.loads(Path(absolute).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            msg = f"cannot read settings schema {relative}: {error}"
            raise self.error(msg) from None
        out: list[nodes.Node] = []
        for title, entries in variables(schema).items():
            rows = [
                [
                    code(env),
                    words(type_of(prop)),
                    code(default_text(prop)),
                    words(prop.get("description", "")),
                ]
                for env, prop in sorted(entries)
            ]
            out.append(nodes.rubric(text=title, ids=[nodes.make_id(f"settings-{title}")]))
            out.append(table(("Variable", "Type", "Default", "Description"), rows))
        return out


def setup(app: Sphinx) -> ExtensionMetadata:
    app.add_directive("settings-reference", SettingsReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
