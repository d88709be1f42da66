"""Wire every feature of sphinx-llmdoc into Sphinx.

Each feature module owns its nodes, directives and event handlers and exposes one
``setup_<feature>(app)``; this function is the table of contents.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sphinx.builders.html import StandaloneHTMLBuilder

from sphinx_llmdoc.checks import setup_checks
from sphinx_llmdoc.config import setup_config
from sphinx_llmdoc.deepdive import setup_deepdive
from sphinx_llmdoc.diagram import setup_diagram
from sphinx_llmdoc.highlight import setup_highlight
from sphinx_llmdoc.quota import setup_quota
from sphinx_llmdoc.reader import setup_reader
from sphinx_llmdoc.singlefile import setup_singlefile
from sphinx_llmdoc.singlehtml import setup_singlehtml

if TYPE_CHECKING:
    from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "static"

#: Third-party extensions the book depends on; users list only ``sphinx_llmdoc``.
REQUIRED_EXTENSIONS = (
    "myst_parser",
    "sphinx_design",
    "sphinx_copybutton",
    "sphinxcontrib.mermaid",
)


def setup_extension(app: Sphinx) -> None:
    """Register everything sphinx-llmdoc provides."""
    for name in REQUIRED_EXTENSIONS:
        app.setup_extension(name)

    setup_config(app)
    setup_checks(app)
    setup_quota(app)
    setup_deepdive(app)
    setup_diagram(app)
    setup_highlight(app)
    setup_singlehtml(app)
    setup_reader(app)
    setup_singlefile(app)

    app.connect("builder-inited", add_static_assets)


def add_static_assets(app: Sphinx) -> None:
    """Ship our CSS and JS with HTML builders only."""
    if not isinstance(app.builder, StandaloneHTMLBuilder):
        return
    app.config.html_static_path.append(str(STATIC))
    app.add_css_file("llmdoc.css", priority=650)
    app.add_js_file("llmdoc.js", priority=650)
