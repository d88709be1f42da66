"""Write the self-contained single file when a ``singlehtml`` build finishes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sphinx.util import logging

from sphinx_llmdoc.collapse import Finding, collapse
from sphinx_llmdoc.config import singlefile_name
from sphinx_llmdoc.warnings_ import Warn, warn

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

logger = logging.getLogger(__name__)

_SUBTYPES = {
    "outside_resource": Warn.OUTSIDE_RESOURCE,
    "asset": Warn.ASSET,
    "fragment": Warn.FRAGMENT,
    "duplicate_id": Warn.DUPLICATE_ID,
}

#: Known sources of view-time downloads, and how to stop each one.
KNOWN_ORIGINS = (
    (
        "mermaid",
        "sphinxcontrib-mermaid",
        "use the `diagram` directive or plain `mermaid` "
        "blocks, which sphinx-llmdoc renders to inline SVG at build time",
    ),
    (
        "mathjax",
        "sphinx.ext.mathjax",
        "set `mathjax_path` to a local copy under html_static_path, or use sphinx.ext.imgmath",
    ),
    (
        "fontawesome",
        "sphinx-design",
        "drop `sd_fontawesome_latex`/the Font Awesome CDN, or use "
        "sphinx-design's octicons, which are inline SVG",
    ),
    ("d3", "sphinxcontrib-mermaid", "set `mermaid_d3_zoom = False`"),
)


def setup_singlefile(app: Sphinx) -> None:
    """Collapse the singlehtml page into one file at the end of the build."""
    # After furo (priority 500), whose build-finished handler appends the dark Pygments styles.
    app.connect("build-finished", write_single_file, priority=900)


def origin_of(url: str, config: Config, what: str = "") -> str:
    """Who put *url* in the page, and what to do about it.

    *what* is the finding's message, which says whether a tag or a stylesheet holds it.
    """
    for option in ("html_js_files", "html_css_files"):
        for entry in getattr(config, option, []) or []:
            name = entry[0] if isinstance(entry, tuple | list) else entry
            if name == url:
                return f"it comes from `{option}` in conf.py: ship the file under html_static_path"
    lowered = url.lower()
    for needle, extension, fix in KNOWN_ORIGINS:
        if needle in lowered:
            return f"it is added by {extension}: {fix}"
    if what.startswith("a stylesheet"):
        return (
            "a stylesheet loads it (an @import or url() in html_css_files or the theme): "
            "save the file under html_static_path and point the rule at that copy"
        )
    if what.startswith("<img"):
        return "the document shows it by URL: save the image beside the document and use that path"
    return (
        "it is added by an extension or template, not by conf.py: configure that extension "
        "to use a local copy, or remove it"
    )


def write_single_file(app: Sphinx, exception: Exception | None) -> None:
    """Collapse ``<root_doc>.html`` into ``llmdoc_singlefile_name`` and audit it."""
    if exception is not None or app.builder.name != "singlehtml":
        return
    outdir = app.builder.outdir
    page = outdir / f"{app.config.root_doc}.html"
    if not page.is_file():
        return
    name = singlefile_name(app.config)

    started = time.perf_counter()
    result = collapse(page)
    (outdir / name).write_text(result.html, encoding="utf-8")
    elapsed = time.perf_counter() - started

    for finding in result.findings:
        report(app, finding, page.name, name)

    size_kb = result.sizes["total"] / 1024
    budget = app.config.llmdoc_singlefile_budget_kb
    logger.info(
        "llmdoc: wrote %s (%.0f KB of a %d KB budget; css %.0f KB, js %.0f KB, "
        "fonts %.0f KB, images %.0f KB) in %.2f s",
        name,
        size_kb,
        budget,
        result.sizes["css"] / 1024,
        result.sizes["js"] / 1024,
        result.sizes["fonts"] / 1024,
        result.sizes["images"] / 1024,
        elapsed,
    )
    if size_kb > budget:
        warn(
            f"{name} is {size_kb:.0f} KB, over llmdoc_singlefile_budget_kb = {budget}",
            Warn.SIZE,
        )


def report(app: Sphinx, finding: Finding, page: str, output: str) -> None:
    """Log one collapse or audit finding, located as precisely as the file allows."""
    where = f"{page if finding.where == 'page' else output}, line {finding.line}"
    message = f"{finding.message} ({where})"
    if finding.kind == "outside_resource" and finding.url and "://" in finding.url:
        message += f"; {origin_of(finding.url, app.config, finding.message)}"
    # lines before the first inlined document belong to the root page
    location = finding.document or app.config.root_doc
    warn(message, _SUBTYPES.get(finding.kind, Warn.OUTSIDE_RESOURCE), location=location)
