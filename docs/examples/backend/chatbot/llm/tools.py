"""One tool definition for every provider.

A tool is written once as a Pydantic model. :func:`tool_spec` turns it into the
provider-neutral :class:`~chatbot.providers.base.ToolSpec` with a schema that both
vendors' strict modes accept; ``chatbot/providers/tools.py`` emits it in each API's shape.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from chatbot.providers.base import ToolSpec


# [start:strict]
def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a JSON Schema into the subset both strict modes accept.

    Every object closes (``additionalProperties: false``) and lists every property as
    required; an optional field must therefore be nullable (``str | None``), which
    Pydantic already expresses as ``anyOf`` with ``null``. Titles and defaults are
    dropped: they cost tokens on every request and strict mode ignores or rejects them.
    """
    node = {k: v for k, v in schema.items() if k not in ("title", "default")}
    if node.get("type") == "object":
        properties = node.get("properties", {})
        node["properties"] = {k: strict_schema(v) for k, v in properties.items()}
        node["required"] = list(properties)
        node["additionalProperties"] = False
    for key in ("anyOf", "allOf", "oneOf"):
        if key in node:
            node[key] = [strict_schema(s) for s in node[key]]
    if "items" in node:
        node["items"] = strict_schema(node["items"])
    if "$defs" in node:
        node["$defs"] = {k: strict_schema(v) for k, v in node["$defs"].items()}
    return node


# [end:strict]


# [start:definition]
class SearchDocs(BaseModel):
    """Search the product documentation and return the most relevant passages."""

    query: str = Field(description="What to look for, in the user's words")
    top_k: int = Field(ge=1, le=10, description="How many passages to return")
    product: str | None = Field(description="Limit to one product, or null for all")


def tool_spec(name: str, model: type[BaseModel]) -> ToolSpec:
    """The model's JSON Schema made strict-mode safe; its docstring is the description."""
    return ToolSpec(name, (model.__doc__ or "").strip(), strict_schema(model.model_json_schema()))


SEARCH_DOCS = tool_spec("search_docs", SearchDocs)
# [end:definition]
