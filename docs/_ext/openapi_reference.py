"""``openapi-reference``: render a committed OpenAPI document as the book's API reference.

Reads the JSON file the backend exports (``python -m chatbot.architecture.openapi_export``)
instead of importing the backend, so building the book needs no backend dependencies.
Endpoints become a rubric with a parameter table and a response table; component
schemas become a table of fields with types, constraints and whether they are required.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.typing import ExtensionMetadata, OptionSpec

METHODS = ("get", "post", "put", "patch", "delete")
LITERAL = re.compile(r"``(.+?)``|`(.+?)`")


def type_of(schema: dict[str, Any]) -> str:
    """A short human type for a JSON Schema: ``string (max 8000)``, ``array of X``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[1]
    if "anyOf" in schema:
        parts = [type_of(s) for s in schema["anyOf"]]
        return " or ".join(dict.fromkeys(p for p in parts if p != "null")) + (
            ", nullable" if "null" in parts else ""
        )
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if "format" in schema:
        kind += f" ({schema['format']})"
    return kind


def constraints(schema: dict[str, Any]) -> str:
    """Limits a client must respect, in words."""
    words = []
    for key, label in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
    ):
        for candidate in [schema, *schema.get("anyOf", [])]:
            if key in candidate:
                words.append(f"{label} {candidate[key]}")
    if "default" in schema and schema["default"] is not None:
        words.append(f"default {json.dumps(schema['default'])}")
    return ", ".join(words)


def inline(text: str) -> list[nodes.Node]:
    """Plain text with ``code`` spans as literals (docstrings use RST backticks)."""
    out: list[nodes.Node] = []
    position = 0
    for match in LITERAL.finditer(text):
        out.append(nodes.Text(text[position : match.start()]))
        out.append(nodes.literal(text=match.group(1) or match.group(2)))
        position = match.end()
    out.append(nodes.Text(text[position:]))
    return out


def table(headers: tuple[str, ...], rows: list[list[list[nodes.Node]]]) -> nodes.table:
    """A docutils table; each cell is a list of inline nodes.

    No caption: a numbered table gets an id, and furo's table wrapper copies it, which
    leaves two elements with one id. The rubric above each table names it instead.
    """
    node = nodes.table(classes=["llmdoc-reference"])
    group = nodes.tgroup(cols=len(headers))
    node += group
    group.extend(nodes.colspec(colwidth=1) for _ in headers)
    head = nodes.thead()
    group += head
    head += nodes.row("", *(nodes.entry("", nodes.paragraph(text=h)) for h in headers))
    body = nodes.tbody()
    group += body
    for cells in rows:
        body += nodes.row("", *(nodes.entry("", nodes.paragraph("", "", *c)) for c in cells))
    return node


def code(text: str) -> list[nodes.Node]:
    return [nodes.literal(text=text)]


def words(text: str) -> list[nodes.Node]:
    return inline(" ".join(text.split()))


class OpenAPIReference(SphinxDirective):
    """``openapi-reference <path>``: endpoints and schemas of an OpenAPI 3 JSON file."""

    required_arguments = 1
    option_spec: ClassVar[OptionSpec] = {"section": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        relative, absolute = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(relative)
        try:
            spec = json.loads(Path(absolute).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            msg = f"cannot read OpenAPI document {relative}: {error}"
            raise self.error(msg) from None
        section = self.options.get("section", "endpoints")
        if section == "schemas":
            return self._schemas(spec)
        if section != "endpoints":
            raise self.error("option :section: must be 'endpoints' or 'schemas'")
        return self._endpoints(spec)

    def _endpoints(self, spec: dict[str, Any]) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for path, item in spec.get("paths", {}).items():
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                anchor = nodes.make_id(f"api-{method}-{path}")
                rubric = nodes.rubric(text=f"{method.upper()} {path}", ids=[anchor])
                out.append(rubric)
                summary = operation.get("description") or operation.get("summary", "")
                out += [nodes.paragraph("", "", *words(p)) for p in summary.split("\n\n") if p]
                out += self._parameters(operation)
                out.append(self._responses(operation))
        return out

    def _parameters(self, operation: dict[str, Any]) -> list[nodes.Node]:
        rows = [
            [
                code(p["name"]),
                words(p["in"]),
                words(type_of(p.get("schema", {}))),
                words("yes" if p.get("required") else "no"),
                words(constraints(p.get("schema", {}))),
            ]
            for p in operation.get("parameters", [])
        ]
        body = operation.get("requestBody", {}).get("content", {})
        for media, content in body.items():
            rows.append(
                [
                    words("body"),
                    code(media),
                    words(type_of(content.get("schema", {}))),
                    words("yes" if operation["requestBody"].get("required") else "no"),
                    [],
                ]
            )
        if not rows:
            return []
        headers = ("Name", "In", "Type", "Required", "Constraints")
        return [nodes.paragraph(text="Parameters"), table(headers, rows)]

    def _responses(self, operation: dict[str, Any]) -> nodes.table:
        rows = []
        for status, response in operation.get("responses", {}).items():
            content = response.get("content", {})
            media = ", ".join(content) or "none"
            schemas = [
                type_of(c["schema"]) if "schema" in c else "stream of events"
                for c in content.values()
            ]
            rows.append(
                [
                    code(status),
                    words(response.get("description", "")),
                    code(media) if content else words(media),
                    words(", ".join(schemas)),
                ]
            )
        headers = ("Status", "Meaning", "Media type", "Body")
        return table(headers, rows)

    def _schemas(self, spec: dict[str, Any]) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            out.append(nodes.rubric(text=name, ids=[nodes.make_id(f"api-schema-{name}")]))
            if schema.get("description"):
                out.append(nodes.paragraph("", "", *words(schema["description"])))
            required = set(schema.get("required", []))
            rows = [
                [
                    code(field),
                    words(type_of(prop)),
                    words("yes" if field in required else "no"),
                    words(constraints(prop) or prop.get("description", "")),
                ]
                for field, prop in schema.get("properties", {}).items()
            ]
            if rows:
                headers = ("Field", "Type", "Required", "Constraints")
                out.append(table(headers, rows))
        return out


def setup(app: Sphinx) -> ExtensionMetadata:
    app.add_directive("openapi-reference", OpenAPIReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
