"""Write the service's OpenAPI document to ``openapi.json``: the contract clients build on.

The schema is generated from the FastAPI routes and Pydantic models, never written by
hand; committing the output makes every contract change visible in review, and a test
fails when the committed file no longer matches the code.

``python -m chatbot.architecture.openapi_export`` regenerates it.
"""

from __future__ import annotations

import json
from pathlib import Path

from chatbot.app import create_app
from chatbot.settings import Settings

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.json"


def render() -> str:
    """The OpenAPI document as stable text: sorted keys, two-space indent, final newline."""
    app = create_app(Settings())  # building the schema opens no connection
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    OPENAPI_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")


if __name__ == "__main__":
    main()
