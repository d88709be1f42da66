"""The book's local extensions (docs/_ext): API and configuration references from JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

EXT = Path(__file__).resolve().parents[1] / "docs" / "_ext"
BACKEND = Path(__file__).resolve().parents[1] / "docs" / "examples" / "backend"


@pytest.fixture(autouse=True)
def _local_extensions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(EXT))
    yield
    for name in ("openapi_reference", "settings_reference"):
        sys.modules.pop(name, None)


def html_of(app: SphinxTestApp) -> str:
    app.build()
    return (Path(app.outdir) / "index.html").read_text(encoding="utf-8")


@pytest.mark.sphinx("html", testroot="reference", freshenv=True)
def test_endpoints_schemas_and_settings_are_rendered(app: SphinxTestApp) -> None:
    html = html_of(app)
    warnings = app.warning.getvalue()
    assert "WARNING" not in warnings and "ERROR" not in warnings, warnings
    assert 'id="api-get-v1-items"' in html and "GET /v1/items" in html
    assert 'id="api-post-v1-items"' in html
    assert "min 1, max 100, default 20" in html  # the limit parameter's constraints
    assert (
        '<code class="docutils literal notranslate"><span class="pre">cursor</span></code>' in html
    )
    assert "Page" in html and "array of Item" in html
    assert "string, nullable" in html  # anyOf with null
    assert "max length 80" in html
    assert "APP_PORT" in html and "APP_DB__POOL" in html and "Connections per process." in html
    assert "(secret)" in html and "**********" not in html
    assert html.count('id="settings-app-db"') == 1


def test_a_missing_file_is_a_clear_error(make_app: object, tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("# X\n\n```{openapi-reference} missing.json\n```\n")
    (tmp_path / "conf.py").write_text('extensions = ["myst_parser", "openapi_reference"]\n')
    app = make_app("html", srcdir=tmp_path, freshenv=True)  # type: ignore[operator]
    app.build()
    assert "cannot read OpenAPI document missing.json" in app.warning.getvalue()


def test_the_real_committed_documents_render(make_app: object, tmp_path: Path) -> None:
    for name in ("openapi.json", "settings.schema.json"):
        (tmp_path / name).write_bytes((BACKEND / name).read_bytes())
    (tmp_path / "conf.py").write_text(
        'extensions = ["myst_parser", "openapi_reference", "settings_reference"]\n'
    )
    (tmp_path / "index.md").write_text(
        "# API\n\n```{openapi-reference} openapi.json\n```\n\n"
        "```{settings-reference} settings.schema.json\n```\n"
    )
    app = make_app("html", srcdir=tmp_path, freshenv=True)  # type: ignore[operator]
    html = html_of(app)
    spec = json.loads((BACKEND / "openapi.json").read_text())
    for path in spec["paths"]:
        assert path in html, path
    assert "CHATBOT_TELEMETRY__ENABLED" in html and "CHATBOT_SECURITY__JWT_ISSUER" in html
